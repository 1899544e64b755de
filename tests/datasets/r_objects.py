"""R's XDR serialization, written here byte for byte: just enough for character vectors, factors,
numbers, data frames and a lazy-load database's index, so that the R-data loaders are tested on
fixture files without R."""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from pathlib import Path

# R's CHARSXP encoding flags, as stored in the "general purpose" bits of the header.
UTF8, ASCII = 1 << 3, 1 << 6
NA_INTEGER = -(2**31)


def xdr_int(value: int) -> bytes:
    return struct.pack(">i", value)


def header(
    sexp_type: int,
    *,
    attributes: bool = False,
    tag: bool = False,
    gp: int = 0,
    is_object: bool = False,
) -> bytes:
    """The flags word: type, then the bits "is an object" (has a class), attributes, tag, gp."""
    return xdr_int(sexp_type | is_object << 8 | attributes << 9 | tag << 10 | gp << 12)


def charsxp(raw: bytes | None) -> bytes:
    if raw is None:  # NA_character_
        return header(9) + xdr_int(-1)
    return header(9, gp=ASCII if raw.isascii() else UTF8) + xdr_int(len(raw)) + raw


def strsxp(strings: list[bytes | None]) -> bytes:
    return header(16) + xdr_int(len(strings)) + b"".join(charsxp(raw) for raw in strings)


def named_list(items: dict[str, bytes]) -> bytes:
    """A VECSXP with a names attribute."""
    names = attribute_pairlist({"names": strsxp([key.encode() for key in items])})
    return header(19, attributes=True) + xdr_int(len(items)) + b"".join(items.values()) + names


def serialized(sexp: bytes) -> bytes:
    """Format 3 ("X\\n", version 3, written by R 4.2.1, readable by R 3.5.0, native UTF-8)."""
    return (
        b"X\n" + xdr_int(3) + xdr_int(0x040201) + xdr_int(0x030500) + xdr_int(5) + b"UTF-8" + sexp
    )


def r_lzma(raw: bytes) -> bytes:
    """LZMA2 as R's R_compress3 writes it: lzma_raw_encoder, preset 6, no xz container."""
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 6}]
    return lzma.compress(raw, format=lzma.FORMAT_RAW, filters=filters)


def write_lazyload_db(folder: Path, variables: dict, compressed: int = 1) -> dict[str, Path]:
    """Write Rdata.rdb and Rdata.rdx as R's makeLazyLoadDB does (compressed: 0 none, 1 zlib, 2, 3)."""
    database, offsets = b"", {}
    for name, strings in variables.items():
        raw = serialized(strings if isinstance(strings, bytes) else strsxp(strings))
        if compressed == 0:
            chunk = raw
        elif compressed == 1:
            chunk = len(raw).to_bytes(4, "big") + zlib.compress(raw)
        else:
            kind, payload = (b"2", bz2.compress(raw)) if compressed == 2 else (b"Z", r_lzma(raw))
            chunk = len(raw).to_bytes(4, "big") + kind + payload
        offsets[name] = header(13) + xdr_int(2) + xdr_int(len(database)) + xdr_int(len(chunk))
        database += chunk
    index = named_list(
        {
            "variables": named_list(offsets),
            "references": header(19) + xdr_int(0),
            "compressed": header(10 if compressed < 2 else 13) + xdr_int(1) + xdr_int(compressed),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Rdata.rdb").write_bytes(database)
    (folder / "Rdata.rdx").write_bytes(gzip.compress(serialized(index), mtime=0))
    return {"Rdata.rdb": folder / "Rdata.rdb", "Rdata.rdx": folder / "Rdata.rdx"}


def attribute_pairlist(attributes: dict[str, bytes]) -> bytes:
    """A tagged pairlist of attributes (``names = ...``, ``class = ...``), ended by R_NilValue."""
    out = b""
    for name, value in attributes.items():
        out += header(2, tag=True) + header(1) + charsxp(name.encode()) + value
    return out + header(254)


def realsxp(values: list[float | None]) -> bytes:
    """A double vector; ``None`` is R's NA_real_ (a NaN with payload 1954)."""
    na = struct.pack(">II", 0x7FF00000, 1954)
    body = b"".join(na if v is None else struct.pack(">d", v) for v in values)
    return header(14) + xdr_int(len(values)) + body


def factor(codes: list[int | None], levels: list[bytes]) -> bytes:
    """An R factor: 1-based integer codes (``None`` is NA) with levels and class "factor"."""
    body = b"".join(xdr_int(NA_INTEGER if code is None else code) for code in codes)
    attributes = attribute_pairlist({"levels": strsxp(levels), "class": strsxp([b"factor"])})
    return header(13, attributes=True, is_object=True) + xdr_int(len(codes)) + body + attributes


def data_frame(columns: dict[str, bytes], rows: int) -> bytes:
    """A data.frame: a list of column vectors with names, class and R's compact row names."""
    attributes = attribute_pairlist(
        {
            "names": strsxp([name.encode() for name in columns]),
            "class": strsxp([b"data.frame"]),
            "row.names": header(13) + xdr_int(2) + xdr_int(NA_INTEGER) + xdr_int(-rows),
        }
    )
    body = b"".join(columns.values())
    return header(19, attributes=True, is_object=True) + xdr_int(len(columns)) + body + attributes
