"""``metrics.jsonl``: one JSON object per line, per epoch and per evaluation.

Lines are appended and flushed to disk one at a time, so a killed run loses at most the line it
was writing; readers skip a torn last line. On resume the log is cut back to the checkpoint's
epoch, so a resumed run has no gaps and no duplicated epochs.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
    >>> for epoch in (1, 2, 3):
    ...     append(path, {"kind": "epoch", "epoch": epoch, "loss": 1.0 / epoch})
    >>> truncate(path, 2)
    >>> [r["epoch"] for r in read(path)]
    [1, 2]
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ember.files import atomic_path

METRICS_FILE = "metrics.jsonl"


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a line and flush it to disk."""
    line = json.dumps({k: _plain(v) for k, v in record.items()})
    with open(path, "a") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())


def read(path: Path) -> list[dict[str, Any]]:
    """Every complete record in the file (a torn line from a killed process is skipped)."""
    if not Path(path).exists():
        return []
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def truncate(path: Path, epoch: int) -> None:
    """Keep only the epoch records up to ``epoch`` (evaluations came after them: dropped too)."""
    kept = [r for r in read(path) if r.get("kind") == "epoch" and int(r["epoch"]) <= epoch]
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))


def epochs(path: Path) -> list[dict[str, Any]]:
    """The epoch records, in order."""
    return [r for r in read(path) if r.get("kind") == "epoch"]


def _plain(value: Any) -> Any:
    # JSON has no NaN/inf: write them as strings a person (and json.loads) can read
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
