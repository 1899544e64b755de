"""Finding dataset files on disk, and downloading them (checked, atomically) when they are missing.

A dataset named ``name`` is looked for, file by file, in

1. ``$EMBER_DATA/<name>/`` (when ``EMBER_DATA`` is set),
2. ``~/.cache/ember/datasets/<name>/``,
3. ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist`` installs there),

accepting in each folder the canonical file name, then its alternatives (``x.gz`` may also be
the un-gzipped ``x``). A file found nowhere is downloaded into :func:`data_home` ``/<name>/``:
streamed to a temporary file in that folder, its md5 checked against the published one, then
renamed into place, so a partial or corrupt file never carries the real name.

Example:
    >>> from ember.datasets.cache import FileInfo, find_or_download
    >>> labels = FileInfo("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432")
    >>> mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
    >>> paths = find_or_download("mnist", {"train_labels": labels}, mirrors=mirrors)
    >>> paths["train_labels"].name  # doctest: +SKIP
    'train-labels-idx1-ubyte'
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ember.errors import ChecksumError, DatasetError, DatasetNotFoundError
from ember.files import atomic_path

# Folders searched after $EMBER_DATA and the user cache, each holding one sub-folder per dataset.
# A module-level list so tests (and unusual installs) can change it.
SYSTEM_DIRS: list[Path] = [Path("/usr/share/datasets")]

MIRROR_ENV = (
    "EMBER_DATASETS_MIRROR"  # a base URL replacing every dataset's mirrors: <base>/<name>/<file>
)
DATA_ENV = "EMBER_DATA"
CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class FileInfo:
    """One published file of a dataset: its canonical name, checksum and accepted local variants.

    Example:
        >>> info = FileInfo("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")
        >>> info.accepted_names
        ('t10k-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte')
    """

    name: str  # the file name on the mirrors, e.g. "train-images-idx3-ubyte.gz"
    md5: str  # md5 of that file as published; every download is checked against it
    raw_md5: str | None = None  # md5 of the un-gzipped bytes, which recompressed copies keep
    alternatives: tuple[str, ...] = ()  # other local names for the same data (a folder is allowed)

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """The names looked for in each folder, best first: canonical, alternatives, un-gzipped."""
        names = [self.name, *self.alternatives]
        if self.name.endswith(".gz"):
            names.append(self.name[: -len(".gz")])
        return tuple(dict.fromkeys(names))


def data_home() -> Path:
    """The folder downloads go to: ``$EMBER_DATA`` if set, else ``~/.cache/ember/datasets``.

    Example:
        >>> data_home()  # with EMBER_DATA unset  # doctest: +SKIP
        PosixPath('/home/ada/.cache/ember/datasets')
    """
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "ember" / "datasets"


def search_dirs(name: str) -> list[Path]:
    """The folders searched for dataset ``name``, in order (``$EMBER_DATA``, cache, system).

    Example:
        >>> [str(folder) for folder in search_dirs("mnist")][-1]
        '/usr/share/datasets/mnist'
    """
    folders = []
    configured = os.environ.get(DATA_ENV)
    if configured:
        folders.append(Path(configured).expanduser() / name)
    folders.append(Path.home() / ".cache" / "ember" / "datasets" / name)
    folders.extend(Path(folder) / name for folder in SYSTEM_DIRS)
    return list(dict.fromkeys(folders))


def find_file(name: str, info: FileInfo) -> Path | None:
    """The first existing file (or folder) for ``info`` in :func:`search_dirs`, or ``None``.

    Example:
        >>> find_file("no-such-dataset", FileInfo("a.gz", "0" * 32)) is None
        True
    """
    for folder in search_dirs(name):
        for candidate_name in info.accepted_names:
            candidate = folder / candidate_name
            if candidate.exists():
                return candidate
    return None


def find_or_download(
    name: str,
    files: Mapping[str, FileInfo],
    *,
    mirrors: Sequence[str] = (),
    download: bool = True,
    hint: str = "",
) -> dict[str, Path]:
    """Locate every file of dataset ``name``, downloading the missing ones; returns key -> path.

    ``files`` maps a key of your choice (``"train_images"``) to the file's :class:`FileInfo`; each
    missing file is downloaded from ``<mirror>/<file name>``, mirror after mirror. A download that
    fails its checksum raises :class:`~ember.errors.ChecksumError` (after trying the other
    mirrors); a file neither found nor downloaded raises
    :class:`~ember.errors.DatasetNotFoundError` listing the folders searched, the URLs tried and
    ``hint`` (how to install the data) as the fix.

    Example:
        >>> from ember.datasets import mnist
        >>> paths = find_or_download("mnist", mnist.FILES, mirrors=mnist.MIRRORS)  # doctest: +SKIP
        >>> sorted(paths)  # doctest: +SKIP
        ['test_images', 'test_labels', 'train_images', 'train_labels']
    """
    found = {key: find_file(name, info) for key, info in files.items()}
    missing = [key for key, path in found.items() if path is None]

    def explain(infos: Sequence[FileInfo], tried: Mapping[str, str]) -> str:
        wanted = "; ".join(" or ".join(info.accepted_names) for info in infos)
        tried = tried or {"(no URL)": "this dataset has no download mirror"}
        return not_found_message(name, wanted, search_dirs(name), tried, hint)

    if missing and not download:
        tried = {files[key].name: "downloads disabled (download=False)" for key in missing}
        raise DatasetNotFoundError(explain([files[key] for key in missing], tried))
    for key in missing:
        info = files[key]
        urls = [f"{mirror.rstrip('/')}/{info.name}" for mirror in mirrors]
        found[key] = download_first(name, info.name, urls, info.md5, partial(explain, [info]))
    return {key: path for key, path in found.items() if path is not None}


def download_first(
    name: str,
    filename: str,
    urls: Sequence[str],
    checksum: str,
    explain: Callable[[Mapping[str, str]], str],
    *,
    algorithm: str = "md5",
) -> Path:
    """Download ``filename`` of dataset ``name`` into :func:`data_home` ``/<name>/`` from the first
    of ``urls`` that serves it with the right ``checksum`` (the hex digest of ``algorithm``).

    ``$EMBER_DATASETS_MIRROR``, when set, replaces ``urls`` with ``<mirror>/<name>/<filename>``.
    A checksum failure raises :class:`~ember.errors.ChecksumError` once every URL was tried; when
    no URL served the file, :class:`~ember.errors.DatasetNotFoundError` carries
    ``explain({url: why it failed})``.

    Example:
        >>> download_first("mnist", "a.gz", [url], md5, explain)  # doctest: +SKIP
        PosixPath('/home/ada/.cache/ember/datasets/mnist/a.gz')
    """
    destination = data_home() / name / filename
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(
            f"cannot create the dataset folder {destination.parent} ({error}); set {DATA_ENV} "
            f"to a writable folder"
        ) from error
    override = os.environ.get(MIRROR_ENV)
    if override:
        urls = [f"{override.rstrip('/')}/{name}/{filename}"]
    failures: dict[str, str] = {}
    checksum_error: ChecksumError | None = None
    for url in urls:
        try:
            return download(url, destination, checksum, algorithm=algorithm)
        except ChecksumError as error:  # a DatasetError (an OSError): must come first
            checksum_error = error
            failures[url] = "checksum mismatch"
        except (OSError, http.client.HTTPException, ValueError) as error:
            failures[url] = str(error) or type(error).__name__
    if checksum_error is not None:
        raise checksum_error
    raise DatasetNotFoundError(explain(failures))


def not_found_message(
    name: str,
    wanted: str,
    folders: Sequence[Path],
    tried: Mapping[str, str],
    hint: str,
    what: str = "the files",
) -> str:
    """The message of a dataset found nowhere: what was looked for where, what was tried, the fix.

    The last words are the folder to copy ``what`` into, so a caller may append a detail.

    Example:
        >>> print(not_found_message("toy", "a.gz", [Path("/data/toy")], {"(no URL)": "none"}, ""))
        dataset 'toy': not found on disk and not downloaded.
          looked for a.gz in:
            /data/toy
          tried:
            (no URL): none
          fix: copy the files into .../toy (EMBER_DATA chooses another parent folder)
    """
    searched = "\n".join(f"    {folder}" for folder in dict.fromkeys(folders))
    attempts = "\n".join(f"    {url}: {reason}" for url, reason in tried.items())
    copy = f"copy {what} into {data_home() / name} ({DATA_ENV} chooses another parent folder)"
    fix = f"{hint}\n    or {copy}" if hint else copy
    return (
        f"dataset {name!r}: not found on disk and not downloaded.\n"
        f"  looked for {wanted} in:\n{searched}\n"
        f"  tried:\n{attempts}\n"
        f"  fix: {fix}"
    )


def download(url: str, destination: str | os.PathLike, md5: str, *, algorithm: str = "md5") -> Path:
    """Download ``url`` to ``destination``, checking its checksum (``md5`` holds the hex digest of
    ``algorithm``: md5 by default, or e.g. ``"sha256"``); the file appears whole or not at all.

    The bytes go to a temporary file beside ``destination`` and are renamed into place only when the
    checksum matches; on any failure (network, checksum, Ctrl-C) the temporary file is deleted. A
    progress bar is drawn on stderr when it is a terminal.

    Example:
        >>> download(  # doctest: +SKIP
        ...     "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
        ...     "/tmp/t10k-labels-idx1-ubyte.gz",
        ...     "ec29112dd5afa0611ce80d1b7f02629c",
        ... )
        PosixPath('/tmp/t10k-labels-idx1-ubyte.gz')
    """
    destination = Path(destination)
    with atomic_path(destination) as temp:  # a failed or bad download leaves no file behind
        digest = hashlib.new(algorithm)
        with (
            open(temp, "wb") as out,
            urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,
        ):
            total = response.headers.get("Content-Length")
            with _progress(destination.name, int(total) if total else None) as advance:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    advance(len(chunk))
        received = digest.hexdigest()
        if received != md5.lower():
            raise ChecksumError(
                f"{destination.name} downloaded from {url} fails its checksum: expected "
                f"{algorithm} {md5}, received {received}. The partial file was deleted; try again "
                f"later, or copy a good copy into {destination.parent}"
            )
    return destination


@contextlib.contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``: a rich progress bar on a terminal stderr, a no-op elsewhere."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda n_bytes: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("downloading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n_bytes: progress.advance(task, n_bytes)
