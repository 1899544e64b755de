"""CSVLogger: write each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from ember.errors import ConfigError
from ember.train.callback import Callback, Logs


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (Keras' format).

    The header is ``epoch`` (0-based, as in Keras) and the first epoch's log names, sorted;
    each row is flushed as it is written. With ``append=True`` an existing file keeps its
    rows and its header.

    Example:
        >>> logger = CSVLogger("training.csv", append=True)
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigError(f"expected a one-character separator, received {separator!r}")
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_fit_start(self, logs: Logs | None = None) -> None:
        path = Path(self.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.keys, self._writer = None, None
        existing_header: list[str] = []
        if self.append and path.exists():
            with open(path, newline="") as file:
                existing_header = next(csv.reader(file, delimiter=self.separator), [])
        self._file = open(path, "a" if self.append else "w", newline="")
        if existing_header:  # keep the old columns so that old and new rows line up
            self.keys = [name for name in existing_header if name != "epoch"]
            self._make_writer(write_header=False)

    def _make_writer(self, write_header: bool) -> None:
        self._writer = csv.DictWriter(
            self._file,
            fieldnames=["epoch", *self.keys],
            delimiter=self.separator,
            extrasaction="ignore",
            lineterminator="\n",
        )
        if write_header:
            self._writer.writeheader()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self.keys = sorted(logs)
            self._make_writer(write_header=True)
        row = {"epoch": epoch}
        row.update({name: logs.get(name, "NA") for name in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_fit_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None
