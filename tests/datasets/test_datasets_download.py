"""Finding dataset files (search order, variants) and downloading them from a local HTTP mirror."""

from __future__ import annotations

import gzip
import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest

from ember.datasets import cache, data_home, fashion_mnist, mnist
from ember.datasets.cache import FileInfo, find_or_download
from ember.datasets.fixtures import write_idx, write_idx_dataset
from ember.errors import ChecksumError, DatasetNotFoundError

LABELS = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.uint8)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _labels_file(folder: Path, name: str = "labels-idx1-ubyte.gz") -> tuple[Path, FileInfo]:
    """A labels IDX file, and a FileInfo whose md5 is that of the file."""
    path = write_idx(folder / name, LABELS)
    return path, FileInfo(name, _md5(path))


def _free_port() -> int:
    with socket.socket() as probe:  # bound then closed: nothing listens there afterwards
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*")) if folder.exists() else []


# -- where files are looked for ---------------------------------------------------------------
def test_data_home_is_ember_data_when_set_else_the_user_cache(isolated, monkeypatch) -> None:
    assert data_home() == isolated["cache"]
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    assert data_home() == isolated["ember_data"]


def test_search_order_is_ember_data_then_cache_then_system(isolated, monkeypatch) -> None:
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    info = FileInfo("labels-idx1-ubyte.gz", "0" * 32)
    for folder in ("system", "cache", "ember_data"):
        write_idx(isolated[folder] / "toy" / info.name, LABELS)
    assert cache.search_dirs("toy") == [
        isolated[k] / "toy" for k in ("ember_data", "cache", "system")
    ]
    assert (
        find_or_download("toy", {"labels": info})["labels"].parent == isolated["ember_data"] / "toy"
    )
    (isolated["ember_data"] / "toy" / info.name).unlink()
    assert find_or_download("toy", {"labels": info})["labels"].parent == isolated["cache"] / "toy"
    (isolated["cache"] / "toy" / info.name).unlink()
    assert find_or_download("toy", {"labels": info})["labels"].parent == isolated["system"] / "toy"


def test_an_ungzipped_copy_is_accepted_in_place_of_the_gz_file(isolated) -> None:
    raw = write_idx(isolated["cache"] / "toy" / "labels-idx1-ubyte", LABELS)
    found = find_or_download("toy", {"labels": FileInfo("labels-idx1-ubyte.gz", "0" * 32)})
    assert found == {"labels": raw}


def test_each_file_is_found_independently_across_folders(isolated, monkeypatch) -> None:
    write_idx_dataset(isolated["system"] / "fashion-mnist", n_train=20, n_test=10, seed=1)
    write_idx_dataset(isolated["cache"] / "fashion-mnist", n_train=30, n_test=10, compress=False)
    (isolated["cache"] / "fashion-mnist" / "train-images-idx3-ubyte").unlink()
    (isolated["cache"] / "fashion-mnist" / "train-labels-idx1-ubyte").unlink()
    (x_train, y_train), (x_test, _) = fashion_mnist.load_data(download=False)
    assert len(x_train) == len(y_train) == 20 and len(x_test) == 10


# -- downloading --------------------------------------------------------------------------------
def test_download_writes_the_file_atomically_and_a_second_load_reuses_it(isolated, mirror) -> None:
    url, served, requests = mirror
    _, info = _labels_file(served)
    found = find_or_download("toy", {"labels": info}, mirrors=[url])
    destination = isolated["cache"] / "toy" / info.name
    assert found == {"labels": destination}
    assert _md5(destination) == info.md5 and requests == [f"/{info.name}"]
    assert _leftovers(destination.parent) == [info.name]  # no temporary file left
    assert find_or_download("toy", {"labels": info}, mirrors=[url]) == {"labels": destination}
    assert len(requests) == 1  # the second call found it on disk


def test_download_goes_to_ember_data_when_it_is_set(isolated, mirror, monkeypatch) -> None:
    url, served, _ = mirror
    _, info = _labels_file(served)
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    found = find_or_download("toy", {"labels": info}, mirrors=[url])
    assert found["labels"] == isolated["ember_data"] / "toy" / info.name


def test_a_failing_mirror_falls_through_to_the_next(isolated, mirror) -> None:
    url, served, requests = mirror
    _, info = _labels_file(served)
    dead = f"http://127.0.0.1:{_free_port()}/"
    found = find_or_download("toy", {"labels": info}, mirrors=[f"{url}missing/", dead, url])
    assert _md5(found["labels"]) == info.md5
    assert requests == [f"/missing/{info.name}", f"/{info.name}"]


def test_a_bad_checksum_raises_and_leaves_no_file(isolated, mirror) -> None:
    url, served, _ = mirror
    path, _ = _labels_file(served)
    expected = "0123456789abcdef0123456789abcdef"
    info = FileInfo(path.name, expected)
    with pytest.raises(ChecksumError) as caught:
        find_or_download("toy", {"labels": info}, mirrors=[url])
    message = str(caught.value)
    assert path.name in message and expected in message and _md5(path) in message
    assert _leftovers(isolated["cache"]) == ["toy"]  # the folder, empty


def test_a_server_that_is_down_raises_not_found_listing_folders_and_urls(isolated) -> None:
    url = f"http://127.0.0.1:{_free_port()}/toy/"
    info = FileInfo("labels-idx1-ubyte.gz", "0" * 32)
    with pytest.raises(DatasetNotFoundError) as caught:
        find_or_download("toy", {"labels": info}, mirrors=[url], hint="run scripts/install_data.sh")
    message = str(caught.value)
    for folder in ("cache", "system"):
        assert str(isolated[folder] / "toy") in message
    assert f"{url}labels-idx1-ubyte.gz" in message
    assert "labels-idx1-ubyte.gz or labels-idx1-ubyte" in message
    assert "fix: run scripts/install_data.sh" in message
    assert _leftovers(isolated["cache"]) == ["toy"]


def test_a_connection_cut_mid_file_leaves_no_partial_file(isolated, mirror, monkeypatch) -> None:
    url, served, _ = mirror
    _, info = _labels_file(served)

    class Cut:  # a response that delivers 5 bytes and then dies
        headers = {"Content-Length": "100"}

        def __init__(self) -> None:
            self.sent = False

        def read(self, size: int) -> bytes:
            if self.sent:
                raise ConnectionResetError("connection reset by peer")
            self.sent = True
            return b"12345"

        def __enter__(self) -> Cut:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(cache.urllib.request, "urlopen", lambda url, timeout: Cut())
    with pytest.raises(DatasetNotFoundError, match="connection reset by peer"):
        find_or_download("toy", {"labels": info}, mirrors=[url])
    assert _leftovers(isolated["cache"]) == ["toy"]


def test_download_false_raises_without_touching_the_network(isolated, mirror) -> None:
    url, served, requests = mirror
    _, info = _labels_file(served)
    with pytest.raises(DatasetNotFoundError, match=r"download=False"):
        find_or_download("toy", {"labels": info}, mirrors=[url], download=False)
    assert requests == []


def test_the_mirror_environment_variable_replaces_the_mirrors(
    isolated, mirror, monkeypatch
) -> None:
    url, served, requests = mirror
    _, info = _labels_file(served / "toy")
    monkeypatch.setenv(cache.MIRROR_ENV, url)
    found = find_or_download("toy", {"labels": info}, mirrors=["http://example.invalid/"])
    assert _md5(found["labels"]) == info.md5 and requests == [f"/toy/{info.name}"]


def test_mnist_load_data_downloads_from_its_mirrors(isolated, mirror, monkeypatch) -> None:
    url, served, requests = mirror
    (x_train, y_train), (x_test, y_test) = write_idx_dataset(served, n_train=20, n_test=10)
    files = {
        key: FileInfo(info.name, _md5(served / info.name)) for key, info in mnist.FILES.items()
    }
    monkeypatch.setattr(mnist, "FILES", files)
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    (x_train2, y_train2), (x_test2, y_test2) = mnist.load_data()
    np.testing.assert_array_equal(x_train2, x_train)
    np.testing.assert_array_equal(y_test2, y_test)
    assert sorted(requests) == sorted(f"/{info.name}" for info in files.values())
    assert _leftovers(isolated["cache"] / "mnist") == sorted(info.name for info in files.values())
    mnist.load_data()
    assert len(requests) == 4  # the second load read the cache


def test_published_checksums_are_the_ones_downloads_are_checked_against() -> None:
    assert mnist.FILES["train_images"].md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert fashion_mnist.FILES["train_images"].md5 == "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
    assert mnist.MIRRORS[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    names = {info.name for info in mnist.FILES.values()}
    assert names == {info.name for info in fashion_mnist.FILES.values()}
    assert all(name.endswith("-ubyte.gz") for name in names)


def test_gzip_of_a_fixture_is_stable_so_its_checksum_can_be_pinned(tmp_path: Path) -> None:
    first = write_idx(tmp_path / "a.gz", LABELS).read_bytes()
    assert first == write_idx(tmp_path / "b.gz", LABELS).read_bytes()
    assert gzip.decompress(first)[4:8] == (8).to_bytes(4, "big")
