"""Yearly sunspot numbers, 1700-2008 (309 years): a classic univariate time series.

The data statsmodels bundles (``statsmodels.datasets.sunspots``: the yearly means of the
National Geophysical Data Center, public domain), read from the installed statsmodels package;
nothing is downloaded. A ``sunspots.csv`` in statsmodels' layout (columns ``YEAR`` and
``SUNACTIVITY``) in ``$EMBER_DATA/sunspots/``, the cache or ``/usr/share/datasets/sunspots/`` is
used first.

Example:
    >>> from ember.datasets import sunspots
    >>> years, values = sunspots()  # doctest: +SKIP
    >>> years[0], years[-1], values.dtype  # doctest: +SKIP
    (1700, 2008, dtype('float32'))
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from ember.datasets.cache import data_home, search_dirs
from ember.datasets.text import read_utf8
from ember.errors import DataError, DatasetError, DatasetNotFoundError

NAME = "sunspots"  # the folder name under each searched directory
DESCRIPTION = "Yearly sunspot numbers 1700-2008 (309 values), a univariate time series"
CSV_FILE = "sunspots.csv"
INSTALL_HINT = "pip install statsmodels (its bundled datasets include the sunspots)"

Series = tuple[np.ndarray, np.ndarray]


def sunspots() -> Series:
    """Return ``(years, values)``: years as int64, yearly mean sunspot numbers as float32, (309,).

    Example:
        >>> years, values = sunspots()  # doctest: +SKIP
        >>> int(years[values.argmax()]), float(values.max())  # doctest: +SKIP
        (1957, 190.2)
    """
    for folder in search_dirs(NAME):
        if (folder / CSV_FILE).is_file():
            return read_sunspots_csv(folder / CSV_FILE)
    try:
        from statsmodels.datasets import sunspots as bundled
    except ImportError as error:
        folders = "\n".join(f"    {folder}" for folder in search_dirs(NAME))
        raise DatasetNotFoundError(
            f"dataset {NAME!r}: not found on disk, and statsmodels (which bundles it) is not "
            f"installed.\n  looked for {CSV_FILE} in:\n{folders}\n"
            f"  fix: {INSTALL_HINT}\n    or copy a {CSV_FILE} (columns YEAR, SUNACTIVITY) into "
            f"{data_home() / NAME}"
        ) from error
    frame = bundled.load_pandas().data  # columns YEAR (float), SUNACTIVITY
    return _checked(frame["YEAR"].to_numpy(), frame["SUNACTIVITY"].to_numpy(), "statsmodels")


def read_sunspots_csv(path: str | os.PathLike) -> Series:
    """Read a CSV with the columns ``YEAR`` and ``SUNACTIVITY`` (statsmodels' ``sunspots.csv``).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sunspots.csv"
        >>> _ = path.write_text('"YEAR","SUNACTIVITY"\\n1700.0,5.0\\n1701.0,11.0\\n')
        >>> years, values = read_sunspots_csv(path)
        >>> years.tolist(), values.tolist()
        ([1700, 1701], [5.0, 11.0])
    """
    path = Path(path)
    rows = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
    if not {"YEAR", "SUNACTIVITY"} <= set(rows.fieldnames or ()):
        raise DatasetError(
            f"{path}: expected the columns YEAR and SUNACTIVITY, received "
            f"{', '.join(rows.fieldnames or ()) or 'none'}"
        )
    years, values = [], []
    for row in rows:
        try:
            years.append(float(row["YEAR"]))
            values.append(float(row["SUNACTIVITY"]))
        except (TypeError, ValueError) as error:
            raise DataError(f"{path}: line {rows.line_num}: not a number ({error})") from error
    return _checked(np.array(years), np.array(values), path)


def _checked(years: np.ndarray, values: np.ndarray, source: str | os.PathLike) -> Series:
    if len(years) == 0:
        raise DataError(f"{source}: holds no sunspot numbers")
    if not np.all(years == np.round(years)) or not np.all(np.diff(years) == 1):
        raise DataError(f"{source}: years must be consecutive whole numbers")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataError(f"{source}: sunspot numbers must be finite and non-negative")
    return years.astype(np.int64), values.astype(np.float32)
