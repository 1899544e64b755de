"""Reading a text corpus file: UTF-8 only, and a clear error naming the first bad byte.

Example:
    >>> decode_utf8("Call me Ishmael.".encode(), "moby-dick.txt")
    'Call me Ishmael.'
    >>> decode_utf8(b"caf\\xe9", "latin-1.txt")
    Traceback (most recent call last):
    ...
    ember.errors.DataError: latin-1.txt: not UTF-8 text: byte 0xe9 at byte offset 3 is invalid (unexpected end of data); delete the file and install it again (bash scripts/install_data.sh)
"""

from __future__ import annotations

import os
from pathlib import Path

from ember.errors import DataError

_FIX = "delete the file and install it again (bash scripts/install_data.sh)"
_BYTE_ORDER_MARK = "\ufeff"


def decode_utf8(data: bytes, source: str | os.PathLike) -> str:
    """Decode ``data`` (the bytes of ``source``) as UTF-8, dropping a leading byte-order mark.

    Raises :class:`~ember.errors.DataError` naming ``source`` when ``data`` is empty, or is not
    UTF-8: the message gives the first bad byte and its offset, so the file can be inspected
    (``xxd -s OFFSET``).

    Example:
        >>> decode_utf8(b"\\xef\\xbb\\xbfEmma", "emma.txt")
        'Emma'
    """
    if not data:
        raise DataError(f"{source}: the file is empty (0 bytes), expected UTF-8 text; {_FIX}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{source}: not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset "
            f"{error.start} is invalid ({error.reason}); {_FIX}"
        ) from error
    return text.removeprefix(_BYTE_ORDER_MARK)


def read_utf8(path: str | os.PathLike) -> str:
    """Read the UTF-8 text file ``path`` (see :func:`decode_utf8` for the checks).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = path.write_bytes("Ahab\\n".encode())
        >>> read_utf8(path)
        'Ahab\\n'
    """
    return decode_utf8(Path(path).read_bytes(), path)
