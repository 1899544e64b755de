"""Jane Austen's novels from fixture R lazy-load databases (Rdata.rdb + Rdata.rdx) written here byte
for byte in R's XDR serialization, found on disk, in an R library folder, or taken out of a fixture
Debian package served from a local HTTP mirror."""

from __future__ import annotations

import hashlib
import importlib
import io
import socket
import tarfile
from pathlib import Path

import pytest
from r_objects import write_lazyload_db

from ember.datasets import jane_austen, jane_austen_books
from ember.datasets.archives import Archive
from ember.datasets.lazyload import read_lazyload_db
from ember.errors import DataError, DatasetError

pytest.importorskip("rdata", reason="reading R data needs rdata (pip install rdata)")

austen_module = importlib.import_module("ember.datasets.jane_austen")

NA = None
BOOKS = {  # R variable -> lines, in the database in alphabetical order as R writes them
    "emma": [b"EMMA", b"", b"By Jane Austen", b"Emma Woodhouse, handsome, clever, and rich"],
    "mansfieldpark": [b"MANSFIELD PARK", b"", b"(1814)"],
    "northangerabbey": [b"NORTHANGER ABBEY", b""],
    "persuasion": [b"Persuasion", b"", b"Sir Walter Elliot, of Kellynch-hall"],
    "prideprejudice": [b"PRIDE AND PREJUDICE", b"", "It is a truth…".encode()],
    "sensesensibility": [b"SENSE AND SENSIBILITY", b"", b"by Jane Austen"],
}


def _deb(path: Path, files: dict[str, bytes]) -> bytes:
    """A Debian package: an ar archive of debian-binary, control.tar.xz and data.tar.xz."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as archive:
        for name, payload in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    members = {"debian-binary": b"2.0\n", "control.tar.xz": b"", "data.tar.xz": data.getvalue()}
    out = b"!<arch>\n"
    for name, payload in members.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(payload):<10}`\n".encode()
        out += payload + b"\n" * (len(payload) % 2)
    path.write_bytes(out)
    return out


@pytest.fixture
def no_r_library(isolated, monkeypatch, tmp_path: Path) -> Path:
    """The R library folders searched are one empty folder of the test's own."""
    library = tmp_path / "R-library" / "janeaustenr" / "data"
    monkeypatch.setattr(austen_module, "R_LIBRARY_DIRS", [library])
    return library


def _expected_text(lines: list[bytes]) -> str:
    return "\n".join(line.decode() for line in lines) + "\n"


# -- reading -----------------------------------------------------------------------------------
def test_books_come_in_order_of_publication_with_their_lines_joined(isolated, no_r_library) -> None:
    write_lazyload_db(isolated["cache"] / "jane-austen", BOOKS)
    books = jane_austen_books(download=False)
    assert list(books) == [
        "Sense & Sensibility",
        "Pride & Prejudice",
        "Mansfield Park",
        "Emma",
        "Northanger Abbey",
        "Persuasion",
    ]
    assert books["Emma"] == _expected_text(BOOKS["emma"])
    assert books["Pride & Prejudice"].endswith("It is a truth…\n")
    assert jane_austen(download=False) == "\n".join(books.values())


def test_an_installed_r_package_is_found_in_the_r_library(isolated, no_r_library) -> None:
    write_lazyload_db(no_r_library, BOOKS)
    assert jane_austen_books(download=False)["Mansfield Park"] == "MANSFIELD PARK\n\n(1814)\n"


@pytest.mark.parametrize("compressed", [0, 1, 2, 3], ids=["none", "zlib", "bzip2", "xz"])
def test_every_lazy_load_compression_is_read(tmp_path: Path, compressed: int) -> None:
    paths = write_lazyload_db(tmp_path, {"emma": [b"EMMA", NA, b""]}, compressed=compressed)
    assert read_lazyload_db(paths["Rdata.rdb"], paths["Rdata.rdx"]) == {"emma": ["EMMA", None, ""]}


def test_the_debian_package_is_downloaded_and_its_two_files_kept(
    isolated, no_r_library, mirror, monkeypatch, tmp_path: Path
) -> None:
    url, served, requests = mirror
    fixture = write_lazyload_db(tmp_path / "built", BOOKS)
    members = austen_module.ARCHIVE.members
    package = _deb(
        served / austen_module.ARCHIVE.filename,
        {members[local]: path.read_bytes() for local, path in fixture.items()},
    )
    with socket.socket() as probe:  # bound then closed: nothing listens there afterwards
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/{austen_module.ARCHIVE.filename}"
    archive = Archive(
        austen_module.ARCHIVE.filename,
        hashlib.sha256(package).hexdigest(),
        (dead, f"{url}{austen_module.ARCHIVE.filename}"),
        members,
    )
    monkeypatch.setattr(austen_module, "ARCHIVE", archive)
    assert jane_austen_books()["Persuasion"] == _expected_text(BOOKS["persuasion"])
    assert requests == [f"/{archive.filename}"]
    folder = isolated["cache"] / "jane-austen"
    assert sorted(path.name for path in folder.iterdir()) == ["Rdata.rdb", "Rdata.rdx"]
    assert (folder / "Rdata.rdb").read_bytes() == fixture["Rdata.rdb"].read_bytes()


# -- errors ------------------------------------------------------------------------------------
def test_a_string_that_is_not_utf8_raises_naming_variable_element_and_byte(
    isolated, no_r_library
) -> None:
    bad = dict(BOOKS, emma=[b"EMMA", b"", b"Mr. Knightley\xe9s"])
    paths = write_lazyload_db(isolated["cache"] / "jane-austen", bad)
    with pytest.raises(DataError) as caught:
        jane_austen_books(download=False)
    message = str(caught.value)
    assert f"{paths['Rdata.rdb']} (variable 'emma')" in message
    assert "element 3" in message and "byte 0xe9 at byte offset 13" in message


def test_an_empty_index_or_database_raises_a_data_error_naming_it(isolated, no_r_library) -> None:
    paths = write_lazyload_db(isolated["cache"] / "jane-austen", BOOKS)
    paths["Rdata.rdb"].write_bytes(b"")
    with pytest.raises(DataError, match="empty") as caught:
        jane_austen_books(download=False)
    assert str(paths["Rdata.rdb"]) in str(caught.value)
    paths["Rdata.rdx"].write_bytes(b"")
    with pytest.raises(DataError, match=r"Rdata\.rdx: the file is empty"):
        jane_austen_books(download=False)


def test_a_truncated_database_raises_a_dataset_error(isolated, no_r_library) -> None:
    paths = write_lazyload_db(isolated["cache"] / "jane-austen", BOOKS)
    paths["Rdata.rdb"].write_bytes(paths["Rdata.rdb"].read_bytes()[:-10])
    with pytest.raises(DatasetError, match=r"variable 'sensesensibility'.*truncated"):
        jane_austen_books(download=False)


def test_a_database_without_the_novels_raises_naming_what_it_holds(isolated, no_r_library) -> None:
    write_lazyload_db(isolated["cache"] / "jane-austen", {"iris": [b"setosa"]})
    with pytest.raises(DatasetError, match=r"holds no sensesensibility.*it holds iris"):
        jane_austen_books(download=False)


def test_an_na_line_raises_a_data_error(isolated, no_r_library) -> None:
    write_lazyload_db(isolated["cache"] / "jane-austen", dict(BOOKS, emma=[b"EMMA", NA]))
    with pytest.raises(DataError, match="'emma' must be a character vector without NA"):
        jane_austen_books(download=False)


def test_missing_files_raise_naming_both_files_the_r_library_and_the_fix(
    isolated, no_r_library
) -> None:
    (isolated["cache"] / "jane-austen").mkdir(parents=True)
    (isolated["cache"] / "jane-austen" / "Rdata.rdx").write_bytes(b"alone")  # needs its .rdb
    with pytest.raises(DatasetError) as caught:
        jane_austen_books(download=False)
    message = str(caught.value)
    assert "looked for Rdata.rdb and Rdata.rdx in" in message
    assert str(no_r_library) in message and str(isolated["cache"] / "jane-austen") in message
    assert "fix: bash scripts/install_data.sh" in message
