"""CIFAR-10's binary release: exact pixel values, channel order, both on-disk forms, bad files."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from ember.datasets import cifar10
from ember.datasets.cache import FileInfo
from ember.datasets.fixtures import write_cifar10_binary
from ember.errors import DatasetError, DatasetNotFoundError


def test_a_record_becomes_an_hwc_image_with_r_g_b_planes_in_order() -> None:
    red = np.arange(1024, dtype=np.uint32).reshape(32, 32) % 251  # distinct per pixel
    green, blue = (red + 1) % 256, (red + 2) % 256
    record = bytes([6]) + b"".join(p.astype(np.uint8).tobytes() for p in (red, green, blue))
    images, labels = cifar10.parse_batch(record * 2)
    assert images.shape == (2, 32, 32, 3) and labels.shape == (2, 1)
    assert images.dtype == labels.dtype == np.uint8 and images.flags.c_contiguous
    assert labels.tolist() == [[6], [6]]
    assert images[0, 0, 1].tolist() == [1, 2, 3]  # row 0, column 1: the second byte of each plane
    assert images[0, 1, 0].tolist() == [32, 33, 34]  # row 1 starts 32 bytes into each plane
    np.testing.assert_array_equal(images[1, :, :, 2], blue)


def test_load_data_reads_a_generated_tarball_value_for_value(isolated, monkeypatch) -> None:
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    archive = isolated["ember_data"] / "cifar-10" / "cifar-10-binary.tar.gz"
    (x_train, y_train), (x_test, y_test) = write_cifar10_binary(archive, 7, 5, seed=4)
    (x_train2, y_train2), (x_test2, y_test2) = cifar10.load_data(download=False)
    assert x_train2.shape == (35, 32, 32, 3) and y_train2.shape == (35, 1)
    assert x_test2.shape == (5, 32, 32, 3) and y_test2.shape == (5, 1)
    for expected, loaded in [(x_train, x_train2), (y_train, y_train2), (x_test, x_test2)]:
        assert loaded.dtype == np.uint8
        np.testing.assert_array_equal(loaded, expected)
    np.testing.assert_array_equal(y_test2, y_test)


def test_an_extracted_folder_in_the_system_location_is_read_too(isolated, tmp_path) -> None:
    archive = tmp_path / "cifar-10-binary.tar.gz"
    (x_train, _), (x_test, y_test) = write_cifar10_binary(archive, 3, 4, seed=1)
    with tarfile.open(archive) as opened:
        opened.extractall(isolated["system"] / "cifar-10", filter="data")
    (x_train2, _), (x_test2, y_test2) = cifar10.load_data(download=False)
    np.testing.assert_array_equal(x_train2, x_train)
    np.testing.assert_array_equal(x_test2, x_test)
    np.testing.assert_array_equal(y_test2, y_test)


def test_load_data_downloads_the_tarball_and_checks_it(isolated, mirror, monkeypatch) -> None:
    url, served, requests = mirror
    archive = served / "cifar-10-binary.tar.gz"
    (_, _), (x_test, _) = write_cifar10_binary(archive, 2, 3)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    files = {"archive": FileInfo(archive.name, md5, alternatives=(cifar10.FOLDER,))}
    monkeypatch.setattr(cifar10, "FILES", files)
    monkeypatch.setattr(cifar10, "MIRRORS", [url])
    (_, _), (x_test2, _) = cifar10.load_data()
    np.testing.assert_array_equal(x_test2, x_test)
    assert requests == ["/cifar-10-binary.tar.gz"]
    assert (isolated["cache"] / "cifar-10" / archive.name).is_file()


def test_missing_cifar10_names_the_archive_and_the_folder_to_copy_it_to(isolated) -> None:
    with pytest.raises(DatasetNotFoundError) as caught:
        cifar10.load_data(download=False)
    message = str(caught.value)
    wanted = "cifar-10-binary.tar.gz or cifar-10-batches-bin or cifar-10-binary.tar"
    assert f"looked for {wanted} in" in message
    assert f"fix: copy the files into {isolated['cache'] / 'cifar-10'}" in message


def test_a_truncated_batch_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"data_batch_1.bin: 6145 bytes is not a whole number"):
        cifar10.parse_batch(bytes(2 * 3073 - 1), source="data_batch_1.bin")


def test_a_label_outside_0_to_9_is_named() -> None:
    with pytest.raises(
        DatasetError, match="test_batch.bin: labels must be in 0..9, received a label 12"
    ):
        cifar10.parse_batch(bytes([12]) + bytes(3072), source="test_batch.bin")


def test_a_tarball_without_the_binary_batches_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as opened:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 3
        opened.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(DatasetError, match="lacks cifar-10-batches-bin/data_batch_1.bin"):
        cifar10.read_binary(archive)


def test_a_truncated_tarball_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-binary.tar.gz"
    write_cifar10_binary(archive, 20, 20)
    archive.write_bytes(archive.read_bytes()[:-100])
    with pytest.raises(
        DatasetError, match="cifar-10-binary.tar.gz: cannot be read as a tar archive"
    ):
        cifar10.read_binary(archive)


def test_an_uncompressed_tar_is_accepted_too(isolated, tmp_path) -> None:
    archive = tmp_path / "cifar-10-binary.tar.gz"
    (x_train, _), _ = write_cifar10_binary(archive, 2, 2, seed=5)
    plain = isolated["cache"] / "cifar-10" / "cifar-10-binary.tar"
    plain.parent.mkdir(parents=True)
    plain.write_bytes(gzip.decompress(archive.read_bytes()))
    (x_train2, _), _ = cifar10.load_data(download=False)
    np.testing.assert_array_equal(x_train2, x_train)
