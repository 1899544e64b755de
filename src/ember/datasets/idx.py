"""The IDX format of MNIST and Fashion-MNIST: a tiny header, then one big-endian array.

Layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, one byte naming the element type, one byte
giving the number of dimensions ``ndim``, ``ndim`` big-endian uint32 sizes, then the data in C order.

Example:
    >>> import numpy as np
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> parse_idx(header + bytes(range(6))).tolist()
    [[0, 1, 2], [3, 4, 5]]
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ember.errors import DatasetError

# The element-type byte of the header -> numpy dtype (IDX stores multi-byte values big-endian).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"
_FIX = "delete it and download or copy it again"


def parse_idx(
    data: bytes | bytearray | memoryview, source: str | os.PathLike = "<bytes>"
) -> np.ndarray:
    """Turn the bytes of an uncompressed IDX file into an array, checking header and length.

    No copy is made for uint8 data: the array views ``data`` (writable when ``data`` is a
    ``bytearray``). Multi-byte types are converted to native byte order. ``source`` names the file in
    error messages. Raises :class:`~ember.errors.DatasetError` for a bad magic number, an unknown type
    code, or a length that does not match the header (a truncated or padded file).

    Example:
        >>> header = bytes([0, 0, 0x0C, 1]) + (1).to_bytes(4, "big")
        >>> parse_idx(header + (-7).to_bytes(4, "big", signed=True)).tolist()
        [-7]
    """
    view = memoryview(data).cast("B")
    if len(view) < 4 or view[0] != 0 or view[1] != 0:
        raise DatasetError(
            f"{source}: not an IDX file (expected the magic bytes 00 00 <type> <ndim>, received "
            f"{bytes(view[:4]).hex(' ') or 'an empty file'}); {_FIX}"
        )
    type_code, ndim = view[2], view[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_DTYPES)
        raise DatasetError(
            f"{source}: unknown IDX element type 0x{type_code:02X} (expected one of {known}); {_FIX}"
        )
    dtype = IDX_DTYPES[type_code]
    header_size = 4 + 4 * ndim
    if len(view) < header_size:
        raise DatasetError(
            f"{source}: truncated IDX header (expected {header_size} bytes for {ndim} dimensions, "
            f"the file has {len(view)}); {_FIX}"
        )
    shape = tuple(int.from_bytes(view[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(view) != expected:
        problem = "truncated" if len(view) < expected else "longer than its header says"
        raise DatasetError(
            f"{source}: IDX file is {problem}: header says shape {shape} of {dtype.name} "
            f"({expected} bytes in all), the file has {len(view)} bytes; {_FIX}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def read_bytes(path: str | os.PathLike) -> bytearray:
    """Read a file whole into a writable buffer, decompressing it if it is gzip (any file name).

    A truncated or corrupt gzip stream raises :class:`~ember.errors.DatasetError` naming the file.

    Example:
        >>> import tempfile, gzip, pathlib
        >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.gz"
        >>> _ = file.write_bytes(gzip.compress(b"hello"))
        >>> bytes(read_bytes(file))
        b'hello'
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            buffer = bytearray(os.fstat(file.fileno()).st_size)
            read = file.readinto(buffer)
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error})") from error
    del buffer[read:]  # the file shrank while we read it: keep what is there, the checks will fail
    if buffer[:2] != _GZIP_MAGIC:
        return buffer
    try:
        # gzip.decompress runs zlib in one call: ~3x faster than streaming through GzipFile.
        return bytearray(gzip.decompress(buffer))
    except EOFError as error:
        raise DatasetError(f"{path}: gzip file is truncated ({error}); {_FIX}") from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DatasetError(f"{path}: gzip file is corrupt ({error}); {_FIX}") from error


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into a numpy array (no checksum check).

    Example:
        >>> from ember.datasets import read_idx
        >>> images = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
        >>> images.shape, images.dtype
        ((10000, 28, 28), dtype('uint8'))
    """
    return parse_idx(read_bytes(path), source=path)
