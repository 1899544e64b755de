"""The real MNIST and Fashion-MNIST on this machine. Missing data FAILS: CI installs it with
scripts/install_data.sh, and a skipped test would hide a loader that cannot find it."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from ember import datasets
from ember.datasets import cache, fashion_mnist, mnist
from ember.datasets.idx import read_bytes
from ember.errors import DatasetNotFoundError


def _fail_missing(module: ModuleType, error: DatasetNotFoundError) -> None:
    pytest.fail(f"real {module.NAME} data missing: run scripts/install_data.sh\n{error}")


@functools.cache  # each dataset is read once for all the tests below (Fashion-MNIST: ~0.5 s)
def _load_real(module: ModuleType) -> tuple:
    try:
        return module.load_data(download=False)
    except DatasetNotFoundError as error:
        _fail_missing(module, error)


def _real_paths(module: ModuleType) -> dict[str, Path]:
    try:
        return cache.find_or_download(module.NAME, module.FILES, download=False)
    except DatasetNotFoundError as error:
        _fail_missing(module, error)


@pytest.mark.parametrize("module", [mnist, fashion_mnist], ids=["mnist", "fashion_mnist"])
def test_real_data_has_keras_shapes_dtypes_and_balanced_labels(module: ModuleType) -> None:
    (x_train, y_train), (x_test, y_test) = _load_real(module)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train.min() == 0 and y_train.max() == 9
    counts = np.bincount(y_train, minlength=10)
    assert counts.min() > 5000 and counts.max() < 7000  # ~6000 a class
    assert 0 < x_train.mean() < 255 and x_train.max() == 255


def test_real_mnist_has_the_published_class_counts() -> None:
    (_, y_train), (_, y_test) = _load_real(mnist)
    assert np.bincount(y_train).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_fashion_mnist_labels_match_their_class_names() -> None:
    (_, y_train), (_, y_test) = _load_real(fashion_mnist)
    assert fashion_mnist.class_names[y_train[0]] == "Ankle boot"
    assert np.bincount(y_test).tolist() == [1000] * 10


@pytest.mark.parametrize("module", [mnist, fashion_mnist], ids=["mnist", "fashion_mnist"])
def test_real_label_files_hold_the_published_bytes(module: ModuleType) -> None:
    paths = _real_paths(module)
    for key in ("train_labels", "test_labels"):  # the small files: fast to hash
        received = hashlib.md5(read_bytes(paths[key])).hexdigest()
        assert received == module.FILES[key].raw_md5, paths[key]


def test_every_registered_dataset_describes_itself_and_loads() -> None:
    assert set(datasets.DATASETS) == {"mnist", "fashion_mnist", "cifar10"}
    for module in datasets.DATASETS.values():
        assert isinstance(module.DESCRIPTION, str) and "\n" not in module.DESCRIPTION
        assert len(module.class_names) == 10 and callable(module.load_data)
