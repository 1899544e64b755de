"""Sample quality of a generative model: the Fréchet distance and class coverage.

The Fréchet distance between two sets of feature vectors fits a Gaussian to each and measures
(Dowson and Landau 1982)::

    d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

The FID (Heusel et al. 2017) takes the features from an ImageNet Inception network.
:func:`domain_fid` takes them instead from a classifier trained on the images' own domain (e.g.
an ember Fashion-MNIST classifier's penultimate layer): a *domain-specific FID*. Its numbers
are only comparable with others computed with the same classifier and the same number of
images (the estimate is biased upward for small sets), never with published FIDs.

:func:`class_coverage` complements it: the share of samples a classifier assigns to each class;
a generator that has collapsed onto a few modes leaves some classes near zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import torch

from ember import checks
from ember.errors import DataError


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features ``(N, D)``.

    Means and (unbiased) covariances are computed in float64. The trace of the matrix square
    root, ``Tr((S_a S_b)^(1/2))``, is the sum of the square roots of the eigenvalues of the
    symmetric ``S_a^(1/2) S_b S_a^(1/2)`` (it has the same eigenvalues as ``S_a S_b``), which
    stays real and stable where a general ``sqrtm`` of ``S_a S_b`` may return complex noise.

    Example:
        >>> a = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
        >>> round(frechet_distance(a, a), 6)  # the same set
        0.0
        >>> round(frechet_distance(a, a + 2), 6)  # a shift by (2, 2, 2): squared length 12
        12.0
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise DataError(
            f"the two feature sets have different sizes: {a.shape[1]} vs {b.shape[1]} per "
            f"sample. Fix: take both from the same layer of the same network."
        )
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))  # (D, D)
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = scipy.linalg.eigvalsh((middle + middle.T) / 2)  # symmetrised: rounding
    trace_root = np.sqrt(np.clip(eigenvalues, 0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return max(float(distance), 0.0)  # rounding can leave a tiny negative for equal sets


def domain_fid(
    classifier_features: Callable[[torch.Tensor], torch.Tensor],
    real_images: Any,
    fake_images: Any,
    batch_size: int = 256,
) -> float:
    """A domain-specific FID: :func:`frechet_distance` in a domain classifier's feature space.

    ``classifier_features`` maps a batch of images to features ``(N, ...)`` (flattened), e.g.
    the penultimate layer of a trained Fashion-MNIST classifier in eval mode; it runs under
    ``torch.inference_mode`` on batches of ``batch_size``. Compare values only at equal numbers
    of images and with the same classifier (see the module's notes).

    Example:
        >>> features = lambda images: images.flatten(1)[:, :8]  # stands for a classifier
        >>> real = torch.rand(200, 28, 28, 1, generator=torch.Generator().manual_seed(0))
        >>> round(domain_fid(features, real, real, batch_size=64), 6)
        0.0
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    real = _features(classifier_features, real_images, batch_size)
    fake = _features(classifier_features, fake_images, batch_size)
    return frechet_distance(real, fake)


def class_coverage(predicted_classes: Any, num_classes: int) -> torch.Tensor:
    """The share of samples predicted as each class, ``(num_classes,)``, summing to 1.

    With a classifier's predictions on generated images: every share near ``1 / num_classes``
    means the generator covers every class; a share near 0, a class it has lost (mode collapse).

    Example:
        >>> class_coverage(torch.tensor([0, 0, 1, 2]), 4)
        tensor([0.5000, 0.2500, 0.2500, 0.0000], dtype=torch.float64)
    """
    num_classes = checks.positive_int("num_classes", num_classes)
    classes = torch.as_tensor(predicted_classes).reshape(-1)
    if classes.is_floating_point() or len(classes) == 0:
        raise DataError(
            f"expected a non-empty tensor of integer class ids, received {len(classes)} values "
            f"of dtype {classes.dtype}. Fix: pass the predicted ids, e.g. probabilities.argmax(1)."
        )
    low, high = int(classes.min()), int(classes.max())
    if low < 0 or high >= num_classes:
        raise DataError(
            f"class ids must be in [0, {num_classes}), received ids in [{low}, {high}]. "
            f"Fix: pass num_classes={high + 1}, or the ids of the same classifier."
        )
    counts = torch.bincount(classes.long().cpu(), minlength=num_classes).double()
    return counts / counts.sum()


def _as_features(features: Any, name: str) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().double().numpy()
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or len(array) < 2:
        raise DataError(
            f"{name} must be feature vectors (N, D) with N >= 2, received shape {array.shape}. "
            f"Fix: flatten each sample's features, and pass at least two samples per set."
        )
    if not np.isfinite(array).all():
        raise DataError(f"{name} contains NaN or infinite values. Fix: check the network.")
    return array


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a covariance matrix (negative rounding noise clipped)."""
    eigenvalues, eigenvectors = scipy.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T


@torch.inference_mode()
def _features(function: Callable, images: Any, batch_size: int) -> np.ndarray:
    images = torch.as_tensor(images)
    if len(images) < 2:
        raise DataError(f"expected at least two images, received {len(images)}.")
    parts = [
        function(images[start : start + batch_size]).flatten(1).double().cpu()
        for start in range(0, len(images), batch_size)
    ]
    return torch.cat(parts).numpy()
