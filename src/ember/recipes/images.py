"""The image data of the image recipes.

Example:
    >>> data = load_images("fashion_mnist", validation_size=0.1, seed=0, train_samples=100)
    >>> data.input_shape, len(data.train[0]) + len(data.val[0])  # doctest: +SKIP
    ((28, 28, 1), 100)
"""

from __future__ import annotations

import numpy as np
import torch

from ember import datasets
from ember.data.splits import train_test_split
from ember.errors import ConfigError
from ember.recipes.experiment import DataSplits


def load_images(
    dataset: str, *, validation_size: float, seed: int, train_samples: int | None = None
) -> DataSplits:
    """Load a Keras-style image dataset, scale it to [0, 1], hold out a stratified validation part.

    ``train_samples`` keeps a stratified subset of the training images (quick tries and tests).
    """
    if dataset not in datasets.DATASETS:
        raise ConfigError(
            f"unknown dataset {dataset!r}. Fix: choose one of {', '.join(sorted(datasets.DATASETS))}."
        )
    module = datasets.DATASETS[dataset]
    (x, y), (x_test, y_test) = module.load_data()
    x, x_test = _images(x), _images(x_test)
    # CIFAR-10 ships Keras' (N, 1) labels; the runs' evaluation takes one label per image.
    y = torch.from_numpy(y.astype(np.int64)).reshape(-1)
    y_test = torch.from_numpy(y_test.astype(np.int64)).reshape(-1)
    if train_samples is not None:
        if not 0 < train_samples <= len(x):
            raise ConfigError(
                f"expected train_samples in 1..{len(x)}, received train_samples={train_samples!r}"
            )
        if train_samples < len(x):
            _, x, _, y = train_test_split(
                x, y, test_size=train_samples / len(x), stratify=True, seed=seed
            )
    val = None
    if validation_size:
        x, x_val, y, y_val = train_test_split(
            x, y, test_size=validation_size, stratify=True, seed=seed
        )
        val = (x_val, y_val)
    return DataSplits((x, y), val, (x_test, y_test), list(module.class_names), tuple(x.shape[1:]))


ImageData = DataSplits  # the name image recipes know it by


def _images(array: np.ndarray) -> torch.Tensor:
    images = torch.from_numpy(array).float().div_(255.0)
    return images.unsqueeze(-1) if images.ndim == 3 else images  # (N, H, W) -> (N, H, W, 1)
