"""R's lazy-load databases (``Rdata.rdb`` + ``Rdata.rdx``), as installed R packages ship their data.

The ``.rdx`` index is a gzip-compressed RDS file holding
``list(variables = list(<name> = c(offset, length), ...), references = ..., compressed = ...)``.
Each variable is ``length`` bytes at ``offset`` in the ``.rdb`` file: a 4-byte big-endian
uncompressed length, then (when ``compressed`` is 2 or 3) one byte naming the compression
(``'1'`` zlib, ``'2'`` bzip2, ``'Z'`` a raw LZMA2 stream (no xz container), ``'0'`` none; with ``compressed = TRUE`` it is always
zlib and the byte is absent), then one serialized R object (XDR); with ``compressed = FALSE`` the
object's bytes alone. The objects are parsed with the
PyPI package ``rdata`` (pure Python, no R needed). Character vectors are decoded here, strictly
(rdata's general conversion is ~3x slower on a novel and would pass invalid bytes on as text).

Example:
    >>> variables = read_lazyload_db(  # doctest: +SKIP
    ...     "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb",
    ...     "/usr/lib/R/site-library/janeaustenr/data/Rdata.rdx",
    ... )
    >>> sorted(variables)[:2], variables["emma"][0]  # doctest: +SKIP
    (['emma', 'mansfieldpark'], 'EMMA')
"""

from __future__ import annotations

import bz2
import lzma
import os
import zlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from ember.datasets.archives import REINSTALL_FIX
from ember.errors import DataError, DatasetError


def _raw_lzma2(payload: bytes) -> bytes:
    # R's R_compress3 writes LZMA2 with lzma_raw_encoder (preset 6): no xz header to read the
    # settings from, so the decoder is told them; preset 9's dictionary covers every smaller one.
    return lzma.decompress(
        payload,
        format=lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}],
    )


_DECOMPRESSORS = {b"1": zlib.decompress, b"2": bz2.decompress, b"Z": _raw_lzma2}
# The encoding flags R keeps on each string (CHARSXP "general purpose" bits).
_LATIN1, _UTF8, _ASCII = 1 << 2, 1 << 3, 1 << 6


def read_lazyload_db(
    rdb_path: str | os.PathLike,
    rdx_path: str | os.PathLike,
    names: Collection[str] | None = None,
) -> dict[str, Any]:
    """Read the variables ``names`` (default: every one) of the lazy-load database ``rdb_path``
    indexed by ``rdx_path``; a name the database lacks is left out (the caller says what is missing).

    Returns ``{variable name: value}``: a character vector becomes a ``list`` of ``str`` (``None``
    for ``NA``), anything else what ``rdata.conversion.convert`` makes of it. Raises
    :class:`~ember.errors.DataError` for an empty file or a string that is not valid in its
    declared encoding (naming the variable, the element and the byte offset in it), and
    :class:`~ember.errors.DatasetError` for a file that is not a lazy-load database, or is
    truncated.

    Example:
        >>> read_lazyload_db("Rdata.rdb", "Rdata.rdx")["emma"][:3]  # doctest: +SKIP
        ['EMMA', '', 'By Jane Austen']
    """
    rdb_path = Path(rdb_path)
    rdata = _import_rdata()
    index = _read_index(rdata, Path(rdx_path))
    compression = int(index.get("compressed", [1])[0])
    database = _read_nonempty(rdb_path)
    variables = {}
    for name, (offset, length) in index["variables"].items():
        if names is not None and str(name) not in names:
            continue
        offset, length = int(offset), int(length)
        chunk = database[offset : offset + length]
        source = f"{rdb_path} (variable {str(name)!r})"
        if len(chunk) != length or length < 2:
            raise DatasetError(
                f"{source}: truncated: needs bytes {offset}..{offset + length} but the file has "
                f"{len(database)}; {REINSTALL_FIX}"
            )
        parsed = _parse(rdata, _decompress(chunk, compression, source), source)
        if parsed.object.info.type == rdata.parser.RObjectType.STR:
            encoding = parsed.extra.encoding or "UTF-8"  # of strings flagged neither way
            variables[str(name)] = _decode_strings(parsed.object.value, encoding, source)
        else:
            variables[str(name)] = rdata.conversion.convert(parsed)
    return variables


def variable_names(rdx_path: str | os.PathLike) -> list[str]:
    """The names of the variables a lazy-load database holds, from its index ``rdx_path`` alone.

    Example:
        >>> variable_names("Rdata.rdx")  # doctest: +SKIP
        ['emma', 'mansfieldpark', 'northangerabbey', 'persuasion', 'prideprejudice', ...]
    """
    return [str(name) for name in _read_index(_import_rdata(), Path(rdx_path))["variables"]]


def _read_index(rdata: Any, rdx_path: Path) -> dict:
    index = rdata.conversion.convert(_parse(rdata, _read_nonempty(rdx_path), rdx_path))
    if not isinstance(index, dict) or not isinstance(index.get("variables"), dict):
        raise DatasetError(
            f"{rdx_path}: not the index of an R lazy-load database (expected a list with "
            f"'variables', received {type(index).__name__}); {REINSTALL_FIX}"
        )
    return index


def _decode_strings(elements: list, native_encoding: str, source: str) -> list[str | None]:
    """Decode the CHARSXP elements of a character vector by their encoding flags."""
    strings: list[str | None] = []
    for position, element in enumerate(elements):
        raw = element.value
        if raw is None:  # NA_character_
            strings.append(None)
            continue
        flags = element.info.gp
        encoding = (
            "utf-8"
            if flags & (_UTF8 | _ASCII)
            else "latin-1"
            if flags & _LATIN1
            else native_encoding
        )
        try:
            strings.append(raw.decode(encoding))
        except UnicodeDecodeError as error:
            raise DataError(
                f"{source}: element {position + 1} is not valid {encoding}: byte "
                f"0x{raw[error.start]:02x} at byte offset {error.start} of that string is "
                f"invalid ({error.reason}); {REINSTALL_FIX}"
            ) from error
    return strings


def _parse(rdata: Any, data: bytes, source: str | os.PathLike) -> Any:
    try:
        return rdata.parser.parse_data(data, extension=".rds")
    except Exception as error:  # rdata raises many types (ValueError, KeyError, EOFError, ...)
        raise DatasetError(
            f"{source}: not a readable R object ({error!r}); {REINSTALL_FIX}"
        ) from error


def _import_rdata() -> Any:
    try:
        import rdata
    except ImportError as error:
        raise DatasetError(
            "reading R data needs the package rdata, which is not installed; fix: pip install rdata"
        ) from error
    return rdata


def _decompress(chunk: bytes, compression: int, source: str) -> bytes:
    if compression == 0:  # compress = FALSE: the serialized bytes as they are, no header
        return chunk
    expected = int.from_bytes(chunk[:4], "big")
    if compression in (2, 3):
        kind, payload = chunk[4:5], chunk[5:]
    else:
        kind, payload = b"1", chunk[4:]
    if kind != b"0" and kind not in _DECOMPRESSORS:
        raise DatasetError(f"{source}: unknown compression type {kind!r}; {REINSTALL_FIX}")
    try:
        data = payload if kind == b"0" else _DECOMPRESSORS[kind](payload)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError) as error:
        raise DatasetError(f"{source}: cannot decompress ({error}); {REINSTALL_FIX}") from error
    if len(data) != expected:
        raise DatasetError(
            f"{source}: decompressed to {len(data)} bytes, the header says {expected}; {REINSTALL_FIX}"
        )
    return data


def _read_nonempty(path: Path) -> bytes:
    data = path.read_bytes()
    if not data:
        raise DataError(f"{path}: the file is empty (0 bytes); {REINSTALL_FIX}")
    return data
