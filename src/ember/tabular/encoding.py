"""Column values -> numbers: categorical codes with two reserved codes, numeric values checked,
and the embedding-size rule.

Categorical codes: ``0`` = unknown (a value not seen in training), ``1`` = missing (NaN/None),
``2 ..`` = the training values in sorted order. So a column with ``k`` training values has
cardinality ``k + 2``.

Example:
    >>> import pandas as pd
    >>> levels = sorted_levels(pd.Series(["b", "a", None, "b"]), "city")
    >>> levels
    ['a', 'b']
    >>> category_codes(pd.Series(["a", None, "z", "b"]), levels)[0].tolist()
    [2, 1, 0, 3]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ember.errors import ConfigError, DataError

UNKNOWN, MISSING, RESERVED_CODES = 0, 1, 2


def embedding_size(cardinality: int) -> int:
    """fastai's rule of thumb for the width of a categorical column's embedding.

    ``min(600, round(1.6 * cardinality ** 0.56))`` (fastai ``emb_sz_rule``, in
    fastai/tabular/model.py; Howard & Gugger, "Deep Learning for Coders", chapter 9).

    Example:
        >>> [embedding_size(n) for n in (3, 10, 100, 10_000_000)]
        [3, 6, 21, 600]
    """
    return min(600, round(1.6 * cardinality**0.56))


def sorted_levels(series: pd.Series, column: str) -> list[Any]:
    """The distinct non-missing values of ``series`` as plain Python values (JSON-ready), sorted.

    Values of different types (``"a"`` and ``1`` in one object column) sort by type name first.
    """
    levels = [_plain(value, column) for value in series.dropna().unique()]
    return sorted(levels, key=lambda value: (type(value).__name__, value))


def category_codes(series: pd.Series, levels: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, unseen)``: int64 codes of ``series`` against the training ``levels`` and the
    mask of the non-missing values that are not among them (coded 0)."""
    positions = pd.Index(levels, dtype=object if not levels else None).get_indexer(series)
    missing = series.isna().to_numpy()
    unseen = (positions < 0) & ~missing
    codes = np.where(missing, MISSING, np.where(unseen, UNKNOWN, positions + RESERVED_CODES))
    return codes.astype(np.int64), unseen


def numeric_values(series: pd.Series, column: str) -> np.ndarray:
    """``series`` as float64 (NaN where missing); a non-number or an infinity is a DataError."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = (np.isnan(values) & ~series.isna().to_numpy()) | np.isinf(values)
    if bad.any():
        examples = series[bad].unique()[:3].tolist()
        raise DataError(
            f"the numeric column {column!r} holds {int(bad.sum())} values that are not finite "
            f"numbers, e.g. {examples}. Fix: clean those rows, or name the column in "
            f"categorical=[...] when fitting."
        )
    return values


def _plain(value: Any, column: str) -> Any:
    """A numpy scalar as the Python value it holds; anything not JSON-ready is a ConfigError."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, str)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ConfigError(
        f"the categorical column {column!r} holds a value {value!r} of type "
        f"{type(value).__name__}; categories must be strings, numbers or booleans to be saved "
        f"with the model. Fix: convert the column, e.g. frame[{column!r}].astype(str)."
    )
