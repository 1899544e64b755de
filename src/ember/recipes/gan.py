"""``gan`` and ``cgan``: a DCGAN makes Fashion-MNIST images; a domain classifier scores them.

The generator turns a noise vector into a 28x28 image (transposed convolutions, batch norm,
``tanh``); the discriminator (strided convolutions, leaky ReLU) tells real images from made
ones. The :class:`~ember.tasks.gan.GAN` task alternates their Adam steps on the engine, with the
non-saturating loss of DCGAN, or ``--set loss=wasserstein_gp`` for a WGAN-GP critic (then with
per-image layer norm, 5 critic steps per generator step and the paper's Adam settings).
``cgan`` conditions the generator on the class (its noise is scaled by a learned embedding of
the label) and trains it AC-GAN style (``class_loss=1``): the discriminator also predicts the
class of each image, learning it from the real images only, and the generator is rewarded for
images it puts in the class they were made for. ``--set class_loss=0`` gives the discriminator
the label as one-hot input channels instead (:mod:`ember.zoo.dcgan`).

After every epoch the generator draws the same fixed noise into ``<run>/samples/epoch-NNN.png``
(one column per class for ``cgan``), so the run folder shows the images taking shape.

The test evaluation generates ``eval_samples`` images (10,000) and scores them with a *domain
classifier*, a compact Fashion-MNIST CNN trained once and cached
(:mod:`ember.recipes.domain_classifier`, which documents it):

- ``fid``: the domain-specific FID, the Fréchet distance between the classifier's penultimate
  features (Dense 128) of the generated and of the test images; lower is better;
  ``fid_real`` is the same for as many real training images, the floor a perfect generator
  would reach at this sample size;
- ``coverage_min`` / ``classes_covered``: the classifier's predicted-class histogram of the
  samples (target: every class at least 5%), drawn in ``class_coverage.png``;
- ``cgan`` only, ``conditional_accuracy``: the share of samples classified as the class they
  were made for (target: at least 0.90), per class in ``conditional_accuracy.png``.

``samples.png`` shows 100 of the scored images, ``samples_by_epoch.png`` the first row of each
epoch's grid. "best" checkpoints follow the generator's loss, which says little about image
quality for a GAN: evaluate the last one.

    ember train gan
    ember train cgan
    ember train gan --set loss=wasserstein_gp --set epochs=2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ember import checks, optimizers
from ember.callbacks.sample_grid import SampleGrid, image_grid, save_png
from ember.errors import ConfigError
from ember.plots.figure import new_figure, save_figure
from ember.recipes.config import RecipeConfig, check_fields, positive_int_or_none
from ember.recipes.domain_classifier import domain_classifier, sample_quality
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images
from ember.tasks.gan import GAN
from ember.tasks.gan_checks import check_class_loss
from ember.train import Trainer
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator

LOSSES = ("non_saturating", "wasserstein_gp")
MIN_SHARE = 0.05  # the coverage target: every class in at least 5% of the samples
GRID_IMAGES = 100  # images in samples.png


@dataclass
class Config(RecipeConfig):
    dataset: str = "fashion_mnist"  # fashion_mnist or mnist
    conditional: bool = False  # class-conditioned generator and discriminator (the cgan recipe)
    class_loss: float = 0.0  # conditional: AC-GAN's auxiliary classification weight (cgan: 1)
    loss: Literal["non_saturating", "wasserstein_gp"] = "non_saturating"  # DCGAN, or WGAN-GP
    epochs: int = 10  # passes over the training images (9,380 steps at batch 64)
    batch_size: int = 64  # real images (and as many fakes) per step
    latent_size: int = 64  # length of the generator's noise vector
    width: int = 32  # channels of G's last hidden and D's first layer; the next layer doubles
    learning_rate: float | None = None  # Adam's step size (None: 2e-4, or 1e-4 for wasserstein_gp)
    discriminator_steps: int | None = None  # D steps per G step (None: 1, or 5 for wasserstein_gp)
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)
    grid_samples: int = 100  # images in each epoch's fixed-noise grid in <run>/samples/
    eval_samples: int = 10_000  # images generated to score the generator (FID, coverage)

    field_checks = {
        "latent_size": checks.positive_int,
        "width": checks.positive_int,
        "discriminator_steps": positive_int_or_none,
        "grid_samples": checks.positive_int,
        "eval_samples": checks.positive_int,
    }


def check_config(config: Config, num_classes: int = 10) -> None:
    """Raise a :class:`ConfigError` naming the field and the fix, before any data is loaded.

    Example:
        >>> check_config(Config(loss="hinge"))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected loss in non_saturating, wasserstein_gp, received ...
    """
    if config.loss not in LOSSES:
        raise ConfigError(
            f"expected loss in {', '.join(LOSSES)}, received loss={config.loss!r}. "
            f"Fix: --set loss=non_saturating."
        )
    check_fields(config)
    if config.eval_samples < 2:  # a covariance needs two samples
        raise ConfigError(
            f"expected eval_samples >= 2, received {config.eval_samples}. "
            f"Fix: --set eval_samples=10000"
        )
    rate = config.learning_rate
    if rate is not None and not (checks.is_number(rate) and rate > 0):
        raise ConfigError(
            f"expected a positive learning_rate, received {rate!r}. "
            f"Fix: --set learning_rate=none (2e-4, or 1e-4 for wasserstein_gp)"
        )
    check_class_loss(config.class_loss, config.conditional, config.loss)
    if config.conditional and (
        config.grid_samples % num_classes or config.eval_samples % num_classes
    ):
        # One grid column per class, and every class made equally often for conditional_accuracy.
        raise ConfigError(
            f"a conditional GAN draws every one of the {num_classes} classes equally often: "
            f"grid_samples and eval_samples must be multiples of {num_classes}, received "
            f"grid_samples={config.grid_samples}, eval_samples={config.eval_samples}. "
            f"Fix: e.g. --set grid_samples=100 --set eval_samples=10000."
        )


def build(config: Config) -> Experiment:
    """Data, the two networks and the GAN task for this config."""
    check_config(config)
    data = load_images(
        config.dataset, validation_size=0.0, seed=config.seed, train_samples=config.train_samples
    )
    num_classes = len(data.class_names)
    check_config(config, num_classes)
    classes = num_classes if config.conditional else None
    wasserstein = config.loss == "wasserstein_gp"
    # -- the networks: noise (N, latent) -> images (N, 28, 28, 1) in [-1, 1] -> one logit each --
    generator = DCGANGenerator(config.latent_size, data.input_shape, config.width, classes)
    # An AC-GAN discriminator predicts the class instead of reading it.
    discriminator = DCGANDiscriminator(
        data.input_shape,
        config.width,
        None if config.class_loss else classes,
        normalization="layer" if wasserstein else "batch",  # WGAN-GP penalises per image
        class_outputs=classes if config.class_loss else None,
    )
    # -- the task: two Adam optimizers (the papers' betas), D steps per G step ---------------
    optimizer = None  # the GAN task's default for the loss
    if config.learning_rate is not None:
        betas = (0.0, 0.9) if wasserstein else (0.5, 0.999)
        optimizer = optimizers.Adam(config.learning_rate, *betas)
    steps = config.discriminator_steps or (5 if wasserstein else 1)
    gan = GAN(
        generator,
        discriminator,
        latent_size=config.latent_size,
        loss=config.loss,
        generator_optimizer=optimizer,
        discriminator_optimizer=optimizer,
        discriminator_steps=steps,
        conditional=config.conditional,
        num_classes=classes,
        class_loss=config.class_loss,
    )
    trainer = Trainer(gan, epochs=config.epochs, device=config.device)
    return Experiment(
        network=gan.module,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        evaluation="custom",
        evaluator=partial(
            evaluate_samples, dataset=config.dataset, num_samples=config.eval_samples
        ),
        best_by="loss",
        # Each epoch's grid of samples from fixed noise, into <run>/samples/.
        run_callbacks=lambda run: [SampleGrid(gan, run / "samples", config.grid_samples)],
    )


def evaluate_samples(
    experiment: Experiment,
    split: str,
    out_dir: Path,
    *,
    dataset: str,
    num_samples: int,
) -> dict[str, float]:
    """Domain FID, class coverage (and conditional accuracy) of ``num_samples`` generated images.

    The images come from noise seeded with the run's seed, so re-evaluating a checkpoint gives
    the same numbers. Writes ``samples.png``, ``class_coverage.png`` and, for a conditional
    GAN, ``conditional_accuracy.png`` into ``out_dir``. Unless the run is quiet
    (``experiment.verbose``), the domain classifier says whether it was loaded from its cache or, the first time, is being trained
    (minutes on a CPU), with the engine's progress bar.
    """
    gan: GAN = experiment.trainer.task
    data = experiment.data
    real, _ = data.split(split)
    classifier = domain_classifier(
        dataset, device=experiment.trainer.device, verbose=experiment.verbose
    )
    noise = torch.Generator().manual_seed(experiment.seed)
    labels = torch.arange(num_samples) % len(data.class_names) if gan.conditional else None
    images = torch.cat(
        [
            gan.sample(len(chunk), None if labels is None else labels[chunk], generator=noise).cpu()
            for chunk in torch.arange(num_samples).split(1000)
        ]
    )  # (num_samples, 28, 28, 1) in [0, 1]
    real_features, _ = classifier.features_and_classes(real)
    quality = sample_quality(classifier, real, images, labels, real_features=real_features)
    # The floor: as many real training images, scored the same way.
    train = data.train[0]
    reference = train[torch.randperm(len(train), generator=noise)[:num_samples]]
    floor = sample_quality(classifier, real, reference, real_features=real_features)
    metrics = {
        **quality.metrics(MIN_SHARE),
        "fid_real": floor.fid,
        "classifier_accuracy": classifier.test_accuracy,
    }
    out_dir = Path(out_dir)
    columns = len(data.class_names) if gan.conditional else 10
    grid = image_grid(images[:GRID_IMAGES].numpy(), columns)
    save_png(grid, out_dir / "samples.png", scale=2)
    plot_shares(
        quality.coverage,
        data.class_names,
        out_dir / "class_coverage.png",
        f"Predicted classes of {num_samples:,} samples (domain FID {quality.fid:.2f})",
        target=MIN_SHARE,
        ylabel="share of samples",
    )
    progress = None
    if experiment.run_dir is not None:
        progress = sample_progress(experiment.run_dir / "samples", data.input_shape[0])
    if progress is not None:
        save_png(progress, out_dir / "samples_by_epoch.png", scale=2)
    if quality.per_class_accuracy is not None:
        plot_shares(
            quality.per_class_accuracy,
            data.class_names,
            out_dir / "conditional_accuracy.png",
            f"Samples classified as their conditioning class: "
            f"{quality.conditional_accuracy:.3f} overall",
            target=0.9,
            ylabel="share of the class's samples",
        )
    return metrics


def sample_progress(folder: Path, side: int, padding: int = 2) -> np.ndarray | None:
    """The first row of every ``epoch-NNN.png`` grid in ``folder``, stacked: epoch 1 on top.

    Each grid is :class:`SampleGrid`'s, with ``side``-pixel images and ``padding``; None when
    ``folder`` holds no grids (a run trained outside the run machinery).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for epoch in (1, 2):
        ...     save_png(image_grid(np.zeros((6, 4, 4, 1)), 3, 2), folder / f"epoch-00{epoch}.png")
        >>> sample_progress(folder, side=4).shape  # two bands of 4 + 2 rows, and the bottom padding
        (14, 20, 1)
    """
    from matplotlib.image import imread

    paths = sorted(Path(folder).glob("epoch-*.png"))
    if not paths:
        return None
    band = side + padding  # the first row of images with the padding above it
    bands = [imread(path)[:band, :, :1] for path in paths]  # grey: every channel is the same
    bottom = np.ones((padding, *bands[0].shape[1:]), bands[0].dtype)
    return np.concatenate([*bands, bottom])


def plot_shares(
    shares: torch.Tensor,
    class_names: list[str],
    path: Path,
    title: str,
    *,
    target: float,
    ylabel: str,
) -> None:
    """A bar per class, the ``target`` as a dashed line; bars below it in red. Saves a PNG.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "coverage.png"
        >>> plot_shares(torch.tensor([0.6, 0.4]), ["a", "b"], path, "t", target=0.05, ylabel="s")
        >>> path.stat().st_size > 0
        True
    """

    values = shares.double().tolist()
    figure = new_figure(8, 4)
    axes = figure.add_subplot()
    colors = ["tab:red" if value < target else "tab:blue" for value in values]
    bars = axes.bar(range(len(values)), values, color=colors)
    axes.bar_label(bars, fmt="%.2f", fontsize="small")  # a 0 bar is otherwise invisible
    axes.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
    axes.set_xticks(range(len(values)), class_names, rotation=30, ha="right")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.set_ylim(0, max(*values, target) * 1.2)  # room for the legend above the bars
    axes.legend(fontsize="small", loc="upper right")
    axes.grid(axis="y", alpha=0.3)
    save_figure(figure, path)
