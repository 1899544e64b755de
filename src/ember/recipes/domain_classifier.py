"""The domain classifier behind the *domain-specific FID*: a compact CNN, trained once and cached.

**Domain-specific FID.** The FID (Heusel et al. 2017) is the Fréchet distance between Gaussians
fitted to the features of real and of generated images, taken from an ImageNet Inception
network. Fashion-MNIST and MNIST are far from ImageNet, so ember takes the features from a
classifier trained on the images' own domain instead (:func:`ember.metrics.frechet.domain_fid`):

- the classifier (``SPEC``): Conv2D 32 (3x3, same, ReLU), MaxPooling 2x2, Conv2D 64 (3x3, same,
  ReLU), MaxPooling 2x2, Flatten, Dense 128 (ReLU), Dropout 0.3, Dense 10 (softmax); trained
  with Adam (1e-3) for 8 epochs at batch 128 on all training images, seed 0; about 92% test
  accuracy on Fashion-MNIST and 99% on MNIST (written into the file, see ``test_accuracy``);
- the features: its penultimate layer, the 128 ReLU outputs of Dense 128 that its softmax head
  reads (what :func:`ember.plots.feature_maps.penultimate_features` returns), in eval mode.

A domain FID is only comparable with others from the same classifier file and the same number
of images (the estimate is biased upward for small sets), never with published FIDs.
:func:`sample_quality` also gives the *class coverage*: the share of samples the classifier
assigns to each class (a generator that lost modes leaves classes near 0), and for a
class-conditional generator the share classified as its conditioning class.

**Cache.** :func:`domain_classifier` trains the classifier on first use and writes its weights
atomically to ``<cache_dir>/<dataset>-<hash>.safetensors``, where ``cache_dir`` defaults to
``data_home()/classifiers`` (``$EMBER_DATA/classifiers`` when ``EMBER_DATA`` is set) and
``<hash>`` is the first 12 hex digits of the SHA-256 of ``SPEC``: changing the architecture or
its training gives a new file. It then reads the file back, so the first and every later use
run bitwise the same weights. Training runs inside ``torch.random.fork_rng``: it neither
depends on nor disturbs the caller's random numbers.

Example:
    >>> classifier = domain_classifier("fashion_mnist")  # doctest: +SKIP
    >>> quality = sample_quality(classifier, real_images, generated_images)  # doctest: +SKIP
    >>> quality.metrics()["fid"], quality.coverage.min()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from ember import layers, optimizers
from ember.datasets.cache import data_home
from ember.errors import DataError
from ember.metrics.frechet import class_coverage, frechet_distance
from ember.models.sequential import Sequential
from ember.recipes.images import load_images
from ember.saving import load_weights, save_tensors
from ember.train.precision import resolve_device

# The classifier and its training; any change here gives a new cache file (see the module doc).
SPEC: dict[str, Any] = {
    "filters": [32, 64],  # two 3x3 "same" convolutions, each followed by 2x2 max pooling
    "dense_units": 128,  # the penultimate layer: the feature space of the domain FID
    "dropout": 0.3,
    "epochs": 8,  # 3 gave 0.901 on Fashion-MNIST: shirts and coats then count as misses of a cGAN
    "batch_size": 128,
    "learning_rate": 0.001,
    "seed": 0,
}


@dataclass
class DomainClassifier:
    """A trained domain classifier and where it came from.

    ``trained`` is True when this call trained it, False when it was read from the cache.
    """

    network: Sequential
    dataset: str
    path: Path
    test_accuracy: float
    trained: bool

    @torch.inference_mode()
    def features_and_classes(
        self, images: Any, batch_size: int = 500
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Penultimate features ``(N, 128)`` and predicted classes ``(N,)`` of images, on the CPU.

        Images are ``(N, 28, 28, 1)`` floats in [0, 1]; they go through the network in eval
        mode in batches on its device, with one forward pass giving both.
        """
        images = torch.as_tensor(images)
        if images.ndim != 4 or not images.is_floating_point():
            raise DataError(
                f"expected images (N, H, W, C) as floats in [0, 1], received shape "
                f"{tuple(images.shape)} of {images.dtype}. Fix: scale uint8 pixels by 1/255."
            )
        network = self.network.eval()
        device = next(network.parameters()).device
        *body, head = network.layers  # head: the softmax layer; body ends in the features
        features, classes = [], []
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size].to(device)
            for layer in body:
                x = layer(x)
            features.append(x.double().cpu())  # (B, 128)
            classes.append(head(x).argmax(-1).cpu())  # (B,)
        return torch.cat(features), torch.cat(classes)


@dataclass
class SampleQuality:
    """Domain FID, class coverage and (conditional samples) conditional accuracy of a sample set."""

    fid: float
    coverage: torch.Tensor  # (classes,) share of samples predicted as each class
    conditional_accuracy: float | None = None  # share classified as their conditioning class
    per_class_accuracy: torch.Tensor | None = None  # (classes,) the same, per class

    def metrics(self, min_share: float = 0.05) -> dict[str, float]:
        """Flat floats for ``metrics.jsonl``: ``fid``, ``coverage_min``, ``classes_covered`` ...

        ``classes_covered`` counts the classes with at least ``min_share`` of the samples.
        """
        metrics = {
            "fid": self.fid,
            "coverage_min": float(self.coverage.min()),
            "coverage_max": float(self.coverage.max()),
            "classes_covered": float((self.coverage >= min_share).sum()),
        }
        if self.conditional_accuracy is not None:
            metrics["conditional_accuracy"] = self.conditional_accuracy
        return metrics


def sample_quality(
    classifier: DomainClassifier,
    real_images: Any,
    generated_images: Any,
    labels: Any = None,
    *,
    real_features: torch.Tensor | None = None,
) -> SampleQuality:
    """Score generated images against real ones with a domain classifier.

    ``labels`` are the conditioning classes of a class-conditional generator's images (then
    ``conditional_accuracy`` is filled in). ``real_features`` skips recomputing the real
    images' features when several sample sets are scored against the same real images. Use the
    same number of generated images whenever FIDs are compared (10,000 in ember's recipes).

    Example (a VAE's samples, as ``benchmarks/generative.py --vae-run`` scores them):
        >>> classifier = domain_classifier("mnist")  # doctest: +SKIP
        >>> real = load_images("mnist", validation_size=0, seed=0).test[0]  # doctest: +SKIP
        >>> sample_quality(classifier, real, vae.sample(10_000)).metrics()  # doctest: +SKIP
    """
    if real_features is None:
        real_features, _ = classifier.features_and_classes(real_images)
    features, classes = classifier.features_and_classes(generated_images)
    num_classes = classifier.network.layers[-1].units
    quality = SampleQuality(
        fid=frechet_distance(real_features, features),
        coverage=class_coverage(classes, num_classes),
    )
    if labels is not None:
        labels = torch.as_tensor(labels).long().cpu()
        if labels.shape != classes.shape:
            raise DataError(
                f"expected one conditioning label per generated image ({len(classes)}), "
                f"received labels of shape {tuple(labels.shape)}."
            )
        correct = (classes == labels).double()
        quality.conditional_accuracy = float(correct.mean())
        totals = torch.bincount(labels, minlength=num_classes).clamp_min(1)
        hits = torch.bincount(labels, weights=correct, minlength=num_classes)
        quality.per_class_accuracy = hits / totals
    return quality


# -- the classifier and its cache ---------------------------------------------------------------
def build_classifier(
    input_shape: tuple[int, ...] = (28, 28, 1), num_classes: int = 10
) -> Sequential:
    """The untrained ``SPEC`` network (weights drawn from torch's global generator).

    Example:
        >>> network = build_classifier()
        >>> network(torch.rand(2, 28, 28, 1)).shape
        torch.Size([2, 10])
    """
    first, second = SPEC["filters"]
    return Sequential(
        [
            layers.Conv2D(first, 3, padding="same", activation="relu", input_shape=input_shape),
            layers.MaxPooling2D(2),
            layers.Conv2D(second, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(SPEC["dense_units"], activation="relu"),
            layers.Dropout(SPEC["dropout"]),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="domain_classifier",
    )


def classifier_path(dataset: str, cache_dir: str | Path | None = None) -> Path:
    """Where the classifier of ``dataset`` is cached: ``<cache_dir>/<dataset>-<hash>.safetensors``.

    Example:
        >>> classifier_path("mnist", "/tmp/cache").name.startswith("mnist-")
        True
    """
    folder = Path(cache_dir) if cache_dir is not None else data_home() / "classifiers"
    digest = hashlib.sha256(json.dumps(SPEC, sort_keys=True).encode()).hexdigest()[:12]
    return folder / f"{dataset}-{digest}.safetensors"


def domain_classifier(
    dataset: str = "fashion_mnist",
    *,
    cache_dir: str | Path | None = None,
    device: str | torch.device = "cpu",
    verbose: int = 0,
) -> DomainClassifier:
    """The trained domain classifier of ``dataset``: read from the cache, or trained and cached.

    See the module's notes for the network, its training and the cache. ``device`` is where it
    trains and runs. With ``verbose`` > 0 it says what it does: before training, what it trains,
    why and where it caches it, then the engine's progress bar (``fit(verbose=verbose)``); or
    that it was loaded from the cache.
    """
    path = classifier_path(dataset, cache_dir)
    device = resolve_device(device)
    data = load_images(dataset, validation_size=0, seed=SPEC["seed"])
    trained = not path.is_file()
    if trained:
        if verbose:
            print(training_message(dataset, len(data.train[0]), path))
        network = _train(data, device, verbose)
        x_test, y_test = data.test
        accuracy = float((_classes(network, x_test) == y_test).double().mean())
        metadata = {"spec": json.dumps(SPEC), "dataset": dataset, "test_accuracy": repr(accuracy)}
        save_tensors(network.state_dict(), path, metadata=metadata)  # atomic: temp + rename
    # Read back even after training, so that every use runs exactly the stored weights.
    with torch.random.fork_rng(devices=[]):  # its initial weights are overwritten: no draw
        network = build_classifier(data.input_shape, len(data.class_names)).to(device)
    load_weights(network, path)
    with safe_open(str(path), "pt") as stored:
        accuracy = float((stored.metadata() or {}).get("test_accuracy", "nan"))
    if verbose:
        done = "Trained and cached" if trained else "Loaded"
        where = "in" if trained else "from the cache"
        print(
            f"{done} the {dataset} domain classifier (test accuracy {accuracy:.4f}) {where} {path}"
        )
    return DomainClassifier(network.eval(), dataset, path, accuracy, trained)


def training_message(dataset: str, images: int, path: Path) -> str:
    """What a verbose :func:`domain_classifier` says before it trains: what, why, where, once.

    Example:
        >>> print(training_message("mnist", 60_000, Path("/cache/mnist-0123456789ab.safetensors")))
        Training the mnist domain classifier that scores generated images (domain FID, class
        coverage): a small CNN, 8 epochs on 60,000 images.
        This happens once: it is cached in /cache/mnist-0123456789ab.safetensors and loaded from
        there by every later run.
    """
    return (
        f"Training the {dataset} domain classifier that scores generated images (domain FID, "
        f"class coverage): a small CNN, {SPEC['epochs']} epochs on {images:,} images.\n"
        f"This happens once: it is cached in {path} and loaded from there by every later run."
    )


def _train(data: Any, device: torch.device, verbose: int) -> Sequential:
    # Own random numbers: the same weights whatever the caller's state, which stays untouched.
    gpus = [device.index or 0] if device.type == "cuda" else []
    # Training needs gradients even when the caller scores samples under no_grad.
    with torch.random.fork_rng(devices=gpus), torch.enable_grad():
        torch.manual_seed(SPEC["seed"])
        network = build_classifier(data.input_shape, len(data.class_names))
        network.compile(
            optimizer=optimizers.Adam(SPEC["learning_rate"]),
            loss="sparse_categorical_crossentropy",
            device=device,
        )
        x, y = data.train
        network.fit(x, y, batch_size=SPEC["batch_size"], epochs=SPEC["epochs"], verbose=verbose)
    return network


@torch.inference_mode()
def _classes(network: Sequential, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    network.eval()
    device = next(network.parameters()).device
    parts = [
        network(images[i : i + batch_size].to(device)).argmax(-1).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(parts)
