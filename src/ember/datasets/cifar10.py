"""CIFAR-10: 60,000 32x32 colour images in 10 classes, read from the *binary* release.

``cifar-10-binary.tar.gz`` holds ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
``test_batch.bin``. Each record is 3073 bytes: one label byte, then 1024 red, 1024 green and 1024
blue bytes, each plane a row-major 32x32 image. The tarball is read in place (no extraction); an
extracted ``cifar-10-batches-bin/`` folder in a searched location works too. The pickled Python
release is never read: unpickling a download can run arbitrary code.

Example:
    >>> from ember.datasets import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10.load_data()  # doctest: +SKIP
    >>> x_train.shape, y_train.shape  # doctest: +SKIP
    ((50000, 32, 32, 3), (50000, 1))
"""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from ember.datasets.cache import FileInfo, find_or_download
from ember.errors import DatasetError

NAME = "cifar-10"
DESCRIPTION = "CIFAR-10 objects: 50k train / 10k test 32x32 colour images, 10 classes"
MIRRORS: list[str] = ["https://www.cs.toronto.edu/~kriz/"]
FOLDER = "cifar-10-batches-bin"  # the folder inside the tarball
FILES: dict[str, FileInfo] = {
    "archive": FileInfo(
        "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", alternatives=(FOLDER,)
    ),
}
TRAIN_BATCHES = [f"data_batch_{index}.bin" for index in range(1, 6)]
TEST_BATCH = "test_batch.bin"
RECORD_BYTES = 1 + 3 * 32 * 32  # label byte + R, G, B planes
class_names: list[str] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]

Split = tuple[np.ndarray, np.ndarray]


def load_data(*, download: bool = True) -> tuple[Split, Split]:
    """Return CIFAR-10 as Keras does: ``(x_train, y_train), (x_test, y_test)``, all uint8.

    Images are channels-last, (50000, 32, 32, 3) and (10000, 32, 32, 3); labels have shape (N, 1)
    and index ``class_names``. With ``download=False`` a missing archive raises instead.

    Example:
        >>> from ember.datasets import cifar10
        >>> (x_train, y_train), _ = cifar10.load_data()  # doctest: +SKIP
        >>> cifar10.class_names[int(y_train[0, 0])]  # doctest: +SKIP
        'frog'
    """
    path = find_or_download(NAME, FILES, mirrors=MIRRORS, download=download)["archive"]
    return read_binary(path)


def read_binary(path: str | os.PathLike) -> tuple[Split, Split]:
    """Read the binary release from its tarball or its extracted ``cifar-10-batches-bin`` folder.

    Example:
        >>> from ember.datasets.fixtures import write_cifar10_binary
        >>> import tempfile, pathlib
        >>> archive = pathlib.Path(tempfile.mkdtemp()) / "cifar-10-binary.tar.gz"
        >>> _ = write_cifar10_binary(archive, n_train_per_batch=2, n_test=3)
        >>> (x_train, y_train), (x_test, y_test) = read_binary(archive)
        >>> x_train.shape, y_train.shape, x_test.shape
        ((10, 32, 32, 3), (10, 1), (3, 32, 32, 3))
    """
    path = Path(path)
    wanted = [*TRAIN_BATCHES, TEST_BATCH]
    contents = _read_folder(path, wanted) if path.is_dir() else _read_tarball(path, wanted)
    train = [parse_batch(contents[name], f"{path}/{name}") for name in TRAIN_BATCHES]
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    test = parse_batch(contents[TEST_BATCH], f"{path}/{TEST_BATCH}")
    return (x_train, y_train), test


def parse_batch(data: bytes | bytearray, source: str = "<bytes>") -> Split:
    """Turn one ``*.bin`` batch into ``(images (N, 32, 32, 3), labels (N, 1))``, both uint8.

    Raises :class:`~ember.errors.DatasetError` naming ``source`` when the size is not a whole
    number of 3073-byte records or a label is outside 0-9.

    Example:
        >>> record = bytes([7]) + bytes([10] * 1024 + [20] * 1024 + [30] * 1024)
        >>> images, labels = parse_batch(record)
        >>> images[0, 5, 5].tolist(), labels.tolist()
        ([10, 20, 30], [[7]])
    """
    if len(data) == 0 or len(data) % RECORD_BYTES:
        raise DatasetError(
            f"{source}: {len(data)} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + 3072 pixel bytes); the file is truncated or not a CIFAR-10 binary "
            f"batch: delete it and copy or download it again"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, :1].copy()  # (N, 1), as Keras returns them
    if int(labels.max()) >= len(class_names):
        raise DatasetError(
            f"{source}: labels must be in 0..9, received a label {int(labels.max())}; the file "
            f"is not a CIFAR-10 binary batch (CIFAR-100's records are 3074 bytes)"
        )
    planes = records[:, 1:].reshape(-1, 3, 32, 32)  # (N, C, H, W): R, G, B planes
    images = np.ascontiguousarray(planes.transpose(0, 2, 3, 1))  # (N, H, W, C)
    return images, labels


def _read_folder(folder: Path, names: list[str]) -> dict[str, bytes]:
    contents = {}
    for name in names:
        try:
            contents[name] = (folder / name).read_bytes()
        except OSError as error:
            raise DatasetError(
                f"{folder / name}: cannot be read ({error}); the folder should hold "
                f"{', '.join(names)}: copy or extract cifar-10-binary.tar.gz again"
            ) from error
    return contents


def _read_tarball(path: Path, names: list[str]) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    members = {f"{FOLDER}/{name}": name for name in names}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:  # one pass: a .tar.gz cannot seek backwards cheaply
                name = members.get(member.name.removeprefix("./"))
                if name is not None and member.isfile():
                    contents[name] = archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise DatasetError(
            f"{path}: cannot be read as a tar archive ({error}); it is truncated or corrupt: "
            f"delete it and copy or download it again"
        ) from error
    missing = [member for member, name in members.items() if name not in contents]
    if missing:
        raise DatasetError(
            f"{path}: lacks {', '.join(missing)}; expected the binary release "
            f"cifar-10-binary.tar.gz (not the python or matlab one)"
        )
    return contents
