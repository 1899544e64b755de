"""``vae``: a variational autoencoder on MNIST, scored by its ELBO, shown through its latent space.

The model is pytorch/examples' VAE, a little wider: 784 pixels -> 512 ReLU units -> a 20-d
Gaussian posterior ``q(z|x)``; a sample of it -> 512 ReLU units -> 784 Bernoulli logits. The loss
is the negative ELBO in nats per image: the binary cross-entropy summed over the pixels
(``reconstruction``) plus ``KL(q(z|x) || N(0, I))`` (``kl``), as
:class:`ember.tasks.vae.VariationalAutoencoder` logs it, one ``z`` drawn per image in evaluation
as in training (the number pytorch/examples prints).

pytorch/examples trains 784-400-20 with Adam at a constant 1e-3, batch 128, for 10 epochs (about
105 on the test images). This recipe keeps Adam, the batch size and the 10 epochs, holds out 5%
of the training images for validation, and changes two things: 512 hidden units instead of 400,
and the schedule, a higher start (4e-3) decaying to 0 along a cosine. Measured on the CPU
(seed 0), the test loss after 10 epochs: 400 units from 2e-3, 104.96; 400 units from 4e-3,
104.34; 512 units from 4e-3 (the default), 103.29. ``--set hidden=400 --set schedule=constant
--set learning_rate=0.001 --set validation_size=0`` is pytorch/examples' set-up.

The evaluator reports loss, reconstruction and kl on a split and draws ``samples.png`` (64 images
decoded from the prior), ``interpolation.png`` (decoded points on the line between pairs of test
images' posterior means) and a latent map: with ``latent_size=2`` the decoded grid over the
latent plane (``latent_grid.png``) and the posterior means coloured by class
(``latent_means.png``), otherwise PCA and t-SNE maps of the means (``latent_means-*.png``).

    ember train vae
    ember train vae --set dataset=fashion_mnist
    ember train vae --set latent_size=2
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from ember import checks, optimizers, schedules
from ember.errors import ConfigError
from ember.recipes.autoencoders import batched
from ember.recipes.config import RecipeConfig, check_fields, fraction
from ember.recipes.experiment import Experiment
from ember.recipes.figures import one_per_class, plot_codes, plot_image_grid, plot_image_rows
from ember.recipes.images import load_images
from ember.tasks.vae import VariationalAutoencoder
from ember.train import Trainer
from ember.zoo.vae import VAE, interpolate, latent_grid

SCHEDULES = ("cosine", "constant")
SAMPLE_SEED = 0  # the prior samples' seed: every run draws the same latent vectors


@dataclass
class Config(RecipeConfig):
    dataset: str = "mnist"  # which dataset: mnist or fashion_mnist
    epochs: int = 10  # passes over the training images
    batch_size: int = 128  # images per training step
    hidden: tuple[int, ...] = (512,)  # encoder hidden layer sizes (the decoder's, reversed)
    latent_size: int = 20  # dimensions of the latent code z
    learning_rate: float = 0.004  # Adam's initial step size
    schedule: Literal["cosine", "constant"] = "cosine"  # decay to 0, or constant (pytorch/examples)
    validation_size: float = 0.05  # fraction of training images held out; their loss picks best
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)

    field_checks = {
        "latent_size": checks.positive_int,
        "learning_rate": checks.positive_number,
        "validation_size": fraction,
    }


def check_config(config: Config) -> None:
    """Raise a :class:`ConfigError` naming the field and the fix, before any data is loaded.

    Example:
        >>> check_config(Config(latent_size=0))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a positive integer, received latent_size=0. Fix: ...
    """
    check_fields(config)
    if config.schedule not in SCHEDULES:
        raise ConfigError(
            f"expected schedule='cosine' or 'constant', received schedule={config.schedule!r}. "
            f"Fix: --set schedule=cosine."
        )
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in config.hidden):
        raise ConfigError(
            f"expected positive layer sizes, received hidden={config.hidden!r}. "
            f"Fix: --set hidden=400."
        )


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    check_config(config)
    data = load_images(
        config.dataset,
        validation_size=config.validation_size,
        seed=config.seed,
        train_samples=config.train_samples,
    )
    # -- the network: images (N, 28, 28, 1) -> (mean, logvar) (N, L) each -> logits (N, 28, 28, 1)
    network = VAE(data.input_shape, config.latent_size, config.hidden)
    # -- training: the negative ELBO, Adam on a cosine to zero (or constant) ------------------
    rate = config.learning_rate
    optimizer = optimizers.Adam(
        learning_rate=schedules.CosineDecay(rate) if config.schedule == "cosine" else rate
    )
    trainer = Trainer(
        VariationalAutoencoder(network), optimizer, epochs=config.epochs, device=config.device
    )
    return Experiment(
        network=network,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        predict=network.reconstruct,  # images, not class probabilities
        evaluation="custom",
        evaluator=evaluate_vae,
        best_by="loss",
    )


def evaluate_vae(experiment: Experiment, split: str, out_dir: Path) -> dict[str, float]:
    """The negative ELBO and its two terms on ``split`` (nats per image); samples and maps."""
    x, labels = experiment.data.split(split)
    vae: VAE = experiment.network
    out_dir = Path(out_dir)
    metrics = experiment.trainer.evaluate(experiment.batches(split), verbose=0)
    vae.eval()
    device = next(vae.parameters()).device
    generator = torch.Generator().manual_seed(SAMPLE_SEED)
    samples = vae.sample(64, generator=generator).cpu()
    plot_image_grid(samples, out_dir / "samples.png", "64 images decoded from the prior N(0, I)")
    # Interpolations between images of two classes (0 -> 1, 2 -> 3, ...): one morphs into the other.
    names = experiment.data.class_names
    chosen = one_per_class(labels, len(names))
    starts, ends = chosen[0:-1:2], chosen[1::2]
    paths = interpolate(vae, x[starts].to(device), x[ends].to(device), steps=10).cpu()
    rows = {
        f"{names[labels[a]]} -> {names[labels[b]]}": paths[i]
        for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist()))
    }
    plot_image_rows(
        rows,
        out_dir / "interpolation.png",
        f"Decoded points between two {split} images' posterior means",
    )
    means = batched(lambda images: vae.encode(images)[0], vae, x)  # (N, latent_size)
    what = f"posterior means of the {split} images"
    plot_codes(means, labels, names, out_dir, what, experiment.seed, stem="latent_means")
    if vae.latent_size == 2:
        grid = latent_grid(vae, size=15).cpu()  # (15, 15, H, W, C)
        plot_image_grid(
            grid.flatten(0, 1),
            out_dir / "latent_grid.png",
            "Images decoded across the 2-D latent plane (prior quantiles 5%-95%)",
            columns=15,
        )
    return metrics
