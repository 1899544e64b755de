"""Tables in, column roles out: reading a table, checking column names, inferring roles and task.

The rule for columns that are not named (fastai's ``cont_cat_split``, with the same threshold):

* bool, category, string and object columns are **categorical**;
* integer columns with at most :data:`MAX_INTEGER_LEVELS` distinct values are **categorical**,
  integer columns with more are **numeric**;
* float columns are **numeric** (even when they hold whole numbers, as an integer column with a
  missing value does once pandas reads it);
* any other dtype (dates, durations, complex numbers) is an error: convert it or drop it.

The task follows the same rule applied to the target: categorical means classification,
numeric means regression.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"city": ["a", "b"], "rooms": [1, 2], "area": [50.0, 72.5],
    ...                       "price": [1.0, 2.0]})
    >>> infer_roles(frame, "price")
    (['city', 'rooms'], ['area'])
    >>> infer_task(frame["price"])
    'regression'
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pandas.api import types

from ember import checks
from ember.errors import ConfigError, DataError

MAX_INTEGER_LEVELS = 20  # fastai's cont_cat_split(max_card=20)
TASKS = ("classification", "regression")


def read_table(table: Any) -> pd.DataFrame:
    """``table`` as a DataFrame: a DataFrame as it is, or a CSV path read with ``pandas.read_csv``.

    Example:
        >>> read_table(pd.DataFrame({"a": [1]})).shape
        (1, 1)
        >>> read_table("no/such.csv")
        Traceback (most recent call last):
        ...
        ember.errors.DataError: no CSV file at no/such.csv. Fix: pass a pandas DataFrame or the path of an existing CSV file.
    """
    if isinstance(table, (str, os.PathLike)):
        path = Path(table)
        if not path.is_file():
            raise DataError(
                f"no CSV file at {path}. Fix: pass a pandas DataFrame or the path of an "
                f"existing CSV file."
            )
        try:
            table = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            table = pd.DataFrame()
        except (pd.errors.ParserError, UnicodeDecodeError) as error:
            raise DataError(f"{path} is not a readable CSV file ({error})") from error
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame or a CSV path, received {type(table).__name__}. "
            f"Fix: pass pandas.DataFrame(...) or a path to a .csv file."
        )
    if len(table) == 0:
        raise DataError(
            f"the table is empty (0 rows, columns {list(table.columns)}). Fix: pass a table "
            f"with at least one row."
        )
    return table


def check_present(frame: pd.DataFrame, names: Sequence[str], role: str) -> None:
    """Raise :class:`ConfigError` naming the first of ``names`` the table lacks, its columns and
    close matches.

    Example:
        >>> check_present(pd.DataFrame({"price": [1]}), ["prise"], "target")
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: the target column 'prise' is not in the table; its columns are ['price'] (did you mean 'price'?). Fix: name one of the table's columns.
    """
    columns = [str(column) for column in frame.columns]
    for name in names:
        if name in frame.columns:
            continue
        close = difflib.get_close_matches(str(name), columns, n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ConfigError(
            f"the {role} column {name!r} is not in the table; its columns are {columns}{hint}. "
            f"Fix: name one of the table's columns."
        )


def check_target(frame: pd.DataFrame, target: str) -> None:
    """Raise unless ``frame`` has the ``target`` column with no missing values (the DataError
    says how many rows miss it)."""
    check_present(frame, [target], "target")
    count = int(frame[target].isna().sum())
    if count:
        raise DataError(
            f"the target {target!r} is missing in {count} of {len(frame)} rows. Fix: drop them "
            f"first, e.g. frame.dropna(subset=[{target!r}])."
        )


def is_categorical(series: pd.Series) -> bool:
    """True when the module's rule makes ``series`` categorical; raise for unusable dtypes.

    Example:
        >>> is_categorical(pd.Series([1, 2, 3])), is_categorical(pd.Series(range(30)))
        (True, False)
    """
    dtype = series.dtype
    if types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return True
    if types.is_string_dtype(dtype) or types.is_object_dtype(dtype):
        return True
    if types.is_integer_dtype(dtype):
        return series.nunique(dropna=True) <= MAX_INTEGER_LEVELS
    if types.is_float_dtype(dtype):
        return False
    raise ConfigError(
        f"column {series.name!r} has dtype {dtype}, which is neither categorical nor numeric. "
        f"Fix: convert it (e.g. a date to its year or day number) or drop it."
    )


def infer_roles(
    frame: pd.DataFrame,
    target: str,
    categorical: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """``(categorical, numeric)`` feature columns: the named ones, plus the rest by the rule.

    Raises :class:`ConfigError` for a name the table lacks, a column named twice (or the target
    named as a feature), and a named numeric column that does not hold numbers.
    """
    named_categorical, named_numeric = (
        _names(categorical, "categorical"),
        _names(numeric, "numeric"),
    )
    unnamed = [name for name in frame.columns if not isinstance(name, str)]
    if unnamed:
        raise ConfigError(
            f"columns must be named by strings (they are saved as JSON), received {unnamed[:5]}. "
            f"Fix: frame.columns = frame.columns.astype(str), or read the CSV with its header."
        )
    check_present(frame, [target], "target")
    check_present(frame, named_categorical, "categorical")
    check_present(frame, named_numeric, "numeric")
    features = [*named_categorical, *named_numeric]
    both = sorted({name for name in features if features.count(name) > 1 or name == target})
    if both:
        raise ConfigError(
            f"columns {both} are named twice (as categorical and numeric, or as a feature and "
            f"the target {target!r}). Fix: give each column one role."
        )
    for name in named_numeric:
        if not _holds_numbers(frame[name]):
            raise ConfigError(
                f"the numeric column {name!r} has dtype {frame[name].dtype}, not numbers. "
                f"Fix: name it in categorical=[...] instead, or convert it to numbers."
            )
    roles = {name: True for name in named_categorical} | {name: False for name in named_numeric}
    for name in frame.columns:
        if name != target and name not in roles:
            roles[name] = is_categorical(frame[name])
    ordered = [name for name in frame.columns if name in roles]  # the table's column order
    if not ordered:
        raise ConfigError(
            f"the table has no feature columns besides the target {target!r}. Fix: pass a "
            f"table with at least one more column."
        )
    return [n for n in ordered if roles[n]], [n for n in ordered if not roles[n]]


def infer_task(target: pd.Series, task: str | None = None) -> str:
    """``task`` checked, or inferred from the target column by the module's rule.

    Example:
        >>> infer_task(pd.Series(["yes", "no"]))
        'classification'
    """
    if task is not None:
        return checks.one_of("task", task, TASKS)
    return "classification" if is_categorical(target) else "regression"


def _names(names: Sequence[str] | None, role: str) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ConfigError(
            f"expected a list of column names, received {role}={names!r}. "
            f"Fix: pass {role}=[{names!r}] for one column."
        )
    return list(names)


def _holds_numbers(series: pd.Series) -> bool:
    dtype = series.dtype
    return types.is_numeric_dtype(dtype) and not types.is_bool_dtype(dtype)
