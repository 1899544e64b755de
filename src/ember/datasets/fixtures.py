"""Writers of small dataset files in the real formats, for tests and examples without real data.

Example:
    >>> import tempfile, pathlib
    >>> from ember.datasets import mnist
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "mnist"
    >>> (x_train, y_train), _ = write_idx_dataset(folder, n_train=12, n_test=4)
    >>> x, y = mnist.read_split(folder / "train-images-idx3-ubyte.gz",
    ...                         folder / "train-labels-idx1-ubyte.gz")
    >>> bool((x == x_train).all()), y.shape
    (True, (12,))
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import numpy as np

from ember.datasets.idx import IDX_DTYPES
from ember.errors import DataError
from ember.files import atomic_path

Split = tuple[np.ndarray, np.ndarray]
_CIFAR_FOLDER = "cifar-10-batches-bin"
_CIFAR_META = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends with ``.gz``.

    Supports the IDX element types: uint8, int8, int16, int32, float32, float64.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> from ember.datasets import read_idx
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
        >>> _ = write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
        >>> read_idx(path).tolist()
        [3, 1, 4]
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        known = ", ".join(dtype.name for dtype in codes)
        raise DataError(f"IDX stores {known}; received an array of dtype {array.dtype}")
    if array.ndim > 255:
        raise DataError(f"IDX stores at most 255 dimensions; received {array.ndim}")
    header = bytes([0, 0, codes[native], array.ndim])
    header += b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[codes[native]]).tobytes()
    path = Path(path)
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    return _write_atomically(path, payload)


def write_idx_dataset(
    folder: str | os.PathLike,
    *,
    n_train: int = 60,
    n_test: int = 10,
    seed: int = 0,
    compress: bool = True,
) -> tuple[Split, Split]:
    """Write the four MNIST/Fashion-MNIST IDX files with random 28x28 images; return the arrays.

    Files get the canonical names (``train-images-idx3-ubyte.gz``, ...), without ``.gz`` when
    ``compress`` is false. Point ``EMBER_DATA`` at the parent of ``folder`` (named ``mnist`` or
    ``fashion-mnist``) and ``load_data()`` reads them.

    Example:
        >>> import tempfile, pathlib
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (x_train, y_train), (x_test, y_test) = write_idx_dataset(root / "mnist", n_train=5)
        >>> sorted(path.name for path in (root / "mnist").iterdir())[0]
        't10k-images-idx3-ubyte.gz'
    """
    rng = np.random.default_rng(seed)
    suffix = ".gz" if compress else ""
    splits = []
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)  # every class present, balanced
        rng.shuffle(labels)
        write_idx(Path(folder) / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(Path(folder) / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        splits.append((images, labels))
    return splits[0], splits[1]


def write_cifar10_binary(
    path_tar_gz: str | os.PathLike,
    n_train_per_batch: int = 10,
    n_test: int = 10,
    seed: int = 0,
) -> tuple[Split, Split]:
    """Write a ``cifar-10-binary.tar.gz`` of random images in the real layout; return the arrays.

    Returns ``(x_train, y_train), (x_test, y_test)`` in Keras' layout (x: (N, 32, 32, 3), y: (N, 1),
    uint8), N = 5 * ``n_train_per_batch`` for training, so a loader can be checked value for value.

    Example:
        >>> import tempfile, pathlib
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "cifar-10-binary.tar.gz"
        >>> (x_train, y_train), (x_test, y_test) = write_cifar10_binary(archive, 4, 2)
        >>> x_train.shape, y_test.shape
        ((20, 32, 32, 3), (2, 1))
    """
    rng = np.random.default_rng(seed)
    members: dict[str, bytes] = {"batches.meta.txt": _CIFAR_META.encode()}
    splits = []
    batch_sizes = [(f"data_batch_{i}.bin", n_train_per_batch) for i in range(1, 6)]
    for name, count in [*batch_sizes, ("test_batch.bin", n_test)]:
        images = rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8)  # (N, H, W, C)
        labels = rng.integers(0, 10, size=(count, 1), dtype=np.uint8)
        planes = images.transpose(0, 3, 1, 2).reshape(count, 3 * 32 * 32)  # R, G, B planes
        members[name] = np.concatenate([labels, planes], axis=1).tobytes()
        splits.append((images, labels))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        folder = tarfile.TarInfo(_CIFAR_FOLDER)
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(folder)
        for name, data in members.items():
            info = tarfile.TarInfo(f"{_CIFAR_FOLDER}/{name}")
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    _write_atomically(Path(path_tar_gz), buffer.getvalue())
    x_train = np.concatenate([images for images, _ in splits[:5]])
    y_train = np.concatenate([labels for _, labels in splits[:5]])
    return (x_train, y_train), splits[5]


def _write_atomically(path: Path, payload: bytes) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_bytes(payload)
    return path
