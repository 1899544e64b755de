"""Argument checks shared by every module: one message per kind of mistake, written once.

Each check returns the value (converted: ``int`` or ``float``) or raises
:class:`~ember.errors.ConfigError` saying what was expected and what was received, in Keras'
words: ``expected a positive integer, received units=0``. Booleans are never numbers here
(``units=True`` is a mistake), NaN is never in range. Pass ``fix=`` to add the remedy.

Example:
    >>> from ember import checks
    >>> checks.positive_int("units", 64)
    64
    >>> checks.rate("rate", 1.5)
    Traceback (most recent call last):
    ...
    ember.errors.ConfigError: expected a rate in [0, 1), received rate=1.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from ember.errors import ConfigError


def _fail(expected: str, name: str, value: Any, fix: str | None) -> ConfigError:
    message = f"expected {expected}, received {name}={value!r}"
    return ConfigError(f"{message}. Fix: {fix}" if fix else message)


def is_int(value: Any) -> bool:
    """An integer (Python's or numpy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A real number (int or float, Python's or numpy's) that is not NaN, and not a bool."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and not math.isnan(float(value))
    )


def positive_int(name: str, value: Any, *, allow_none: bool = False, fix: str | None = None) -> Any:
    """``value`` if it is an integer >= 1 (or None when ``allow_none``).

    Example:
        >>> positive_int("top_k", None, allow_none=True) is None
        True
        >>> positive_int("units", 0)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a positive integer, received units=0
    """
    if value is None and allow_none:
        return None
    if not is_int(value) or value < 1:
        expected = "a positive integer or None" if allow_none else "a positive integer"
        raise _fail(expected, name, value, fix)
    return int(value)


def non_negative_int(name: str, value: Any, *, fix: str | None = None) -> int:
    """``value`` if it is an integer >= 0."""
    if not is_int(value) or value < 0:
        raise _fail("a non-negative integer", name, value, fix)
    return int(value)


def int_at_least(name: str, value: Any, minimum: int, *, fix: str | None = None) -> int:
    """``value`` if it is an integer >= ``minimum``.

    Example:
        >>> int_at_least("num_steps", 1, 2)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected an integer >= 2, received num_steps=1
    """
    if not is_int(value) or value < minimum:
        raise _fail(f"an integer >= {minimum}", name, value, fix)
    return int(value)


def positive_ints(
    name: str, values: Any, *, allow_empty: bool = True, fix: str | None = None
) -> tuple[int, ...]:
    """A sequence of positive integers as a tuple (a single integer is a sequence of one).

    Example:
        >>> positive_ints("hidden", (64, 32)), positive_ints("hidden", 8)
        ((64, 32), (8,))
    """
    if is_int(values):
        values = (values,)
    expected = (
        "a sequence of positive integers"
        if allow_empty
        else ("a non-empty sequence of positive integers")
    )
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise _fail(expected, name, values, fix)
    result = tuple(values)
    if (not result and not allow_empty) or any(not is_int(v) or v < 1 for v in result):
        raise _fail(expected, name, values, fix)
    return tuple(int(v) for v in result)


def number(name: str, value: Any, *, fix: str | None = None) -> float:
    """``value`` as a float if it is a number (not NaN)."""
    if not is_number(value):
        raise _fail("a number", name, value, fix)
    return float(value)


def positive_number(
    name: str, value: Any, *, allow_none: bool = False, fix: str | None = None
) -> Any:
    """``value`` as a float if it is a number > 0 (or None when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if not is_number(value) or not value > 0:
        raise _fail("a positive number", name, value, fix)
    return float(value)


def non_negative_number(name: str, value: Any, *, fix: str | None = None) -> float:
    """``value`` as a float if it is a number >= 0."""
    if not is_number(value) or value < 0:
        raise _fail("a non-negative number", name, value, fix)
    return float(value)


def number_in(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    closed: str = "[)",
    fix: str | None = None,
) -> float:
    """``value`` as a float if it lies in the interval from ``low`` to ``high``.

    ``closed`` gives the brackets: ``"[)"`` (the default), ``"[]"``, ``"()"`` or ``"(]"``.

    Example:
        >>> number_in("smooth", 0.98, 0, 1)
        0.98
        >>> number_in("top_p", 0, 0, 1, closed="(]")
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a number in (0, 1], received top_p=0
    """
    if closed not in ("[)", "[]", "()", "(]"):
        raise ValueError(f"closed must be one of [), [], (), (], received {closed!r}")
    inside = is_number(value) and (
        (low <= value if closed[0] == "[" else low < value)
        and (value <= high if closed[1] == "]" else value < high)
    )
    if not inside:
        raise _fail(f"a number in {closed[0]}{low:g}, {high:g}{closed[1]}", name, value, fix)
    return float(value)


def rate(name: str, value: Any, *, fix: str | None = None) -> float:
    """A dropout-style rate in [0, 1).

    Example:
        >>> rate("dropout", 0.25)
        0.25
    """
    if not is_number(value) or not 0 <= value < 1:
        raise _fail("a rate in [0, 1)", name, value, fix)
    return float(value)


def one_of(name: str, value: Any, choices: Iterable[Any], *, fix: str | None = None) -> Any:
    """``value`` if it is one of ``choices``.

    Example:
        >>> one_of("mode", "max", ("min", "max"))
        'max'
        >>> one_of("mode", "up", ("min", "max"))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected mode in ('min', 'max'), received mode='up'
    """
    choices = tuple(choices)
    if value not in choices:
        raise _fail(f"{name} in {choices}", name, value, fix)
    return value
