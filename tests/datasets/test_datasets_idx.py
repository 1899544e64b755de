"""The IDX reader and writer: round trips, and every malformed file named in a DatasetError."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ember.datasets import mnist, read_idx
from ember.datasets.fixtures import write_idx, write_idx_dataset
from ember.datasets.idx import parse_idx
from ember.errors import DataError, DatasetError


def _header(type_code: int, *shape: int) -> bytes:
    return bytes([0, 0, type_code, len(shape)]) + b"".join(s.to_bytes(4, "big") for s in shape)


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("file_name", ["array-idx3", "array-idx3.gz"])
def test_write_idx_round_trips_every_idx_type(tmp_path: Path, dtype: str, file_name: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    if dtype == "u1":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / file_name, array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == (2, 3, 4)
    np.testing.assert_array_equal(loaded, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == file_name.endswith(".gz")


def test_write_idx_stores_multibyte_values_big_endian(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "values-idx1", np.array([1, -2], dtype=np.int32))
    assert path.read_bytes() == _header(0x0C, 2) + bytes.fromhex("00000001 fffffffe")


def test_write_idx_rejects_a_dtype_idx_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dtype uint16"):
        write_idx(tmp_path / "x-idx1", np.zeros(3, dtype=np.uint16))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x01\x00\x08\x01" + bytes(8), "not an IDX file"),
        (bytes([0, 0, 0x07, 1]) + bytes(5), "unknown IDX element type 0x07"),
        (bytes([0, 0, 0x08, 3]) + bytes(6), "truncated IDX header"),
        (_header(0x08, 2, 3) + bytes(5), "truncated"),
        (_header(0x08, 2, 3) + bytes(7), "longer than its header says"),
        (_header(0x0C, 2) + bytes(7), r"shape \(2,\) of int32"),
    ],
)
def test_parse_idx_rejects_malformed_bytes(data: bytes, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_idx(data, source="broken-file")


def test_read_idx_names_a_truncated_gzip_file(tmp_path: Path) -> None:
    path = tmp_path / "cut-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_header(0x08, 100) + bytes(100))[:-12])
    with pytest.raises(DatasetError, match="cut-idx1-ubyte.gz: gzip file is truncated"):
        read_idx(path)


def test_read_idx_names_a_corrupt_gzip_file(tmp_path: Path) -> None:
    compressed = bytearray(gzip.compress(_header(0x08, 100) + bytes(range(100))))
    compressed[12:20] = b"\xff" * 8  # scramble the deflate stream
    path = tmp_path / "bad-idx1-ubyte.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(DatasetError, match="bad-idx1-ubyte.gz: gzip file is corrupt"):
        read_idx(path)


def test_read_split_rejects_labels_out_of_range(tmp_path: Path) -> None:
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "labels", np.array([0, 10, 2], dtype=np.uint8))
    with pytest.raises(
        DatasetError, match=r"labels: labels must be in 0\.\.9, received a label 10"
    ):
        mnist.read_split(tmp_path / "images", tmp_path / "labels")


def test_read_split_rejects_images_and_labels_of_different_lengths(tmp_path: Path) -> None:
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "labels", np.zeros(4, dtype=np.uint8))
    with pytest.raises(DatasetError, match="holds 4 labels but .*images holds 3 images"):
        mnist.read_split(tmp_path / "images", tmp_path / "labels")


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 784)])
def test_read_split_rejects_images_of_the_wrong_shape(tmp_path: Path, shape: tuple) -> None:
    write_idx(tmp_path / "images", np.zeros(shape, dtype=np.uint8))
    write_idx(tmp_path / "labels", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"images: expected uint8 images of shape \(N, 28, 28\)"):
        mnist.read_split(tmp_path / "images", tmp_path / "labels")


def test_read_split_rejects_labels_that_are_not_uint8(tmp_path: Path) -> None:
    write_idx(tmp_path / "images", np.zeros((2, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "labels", np.zeros(2, dtype=np.int32))
    with pytest.raises(DatasetError, match="labels: expected uint8 labels .* received int32"):
        mnist.read_split(tmp_path / "images", tmp_path / "labels")


def test_write_idx_dataset_writes_what_load_data_reads(isolated: dict, monkeypatch) -> None:
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    (x_train, y_train), (x_test, y_test) = write_idx_dataset(
        isolated["ember_data"] / "mnist", n_train=30, n_test=20, seed=3, compress=False
    )
    (x_train2, y_train2), (x_test2, y_test2) = mnist.load_data(download=False)
    for expected, loaded in [(x_train, x_train2), (y_train, y_train2), (x_test, x_test2)]:
        np.testing.assert_array_equal(loaded, expected)
    np.testing.assert_array_equal(y_test2, y_test)
    assert np.bincount(y_train2).tolist() == [3] * 10  # fixture labels are balanced
