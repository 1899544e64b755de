"""Writing files atomically, and JSON with clear errors: the torch-free base of every file ember writes.

Every write goes to a temporary file in the destination folder and is renamed into place, so a
crash or a full disk never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ember.errors import SaveError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On any error the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SaveError(f"cannot create the folder {path.parent} ({error})") from error
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as file:
            os.fsync(file.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON file with a clear error when missing or malformed."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise SaveError(f"{path} is missing. Fix: pass a folder written by model.save.") from error
    except (OSError, ValueError) as error:
        raise SaveError(f"{path} is not readable JSON ({error})") from error
