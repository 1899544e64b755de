"""Check a config value against its field's type annotation and convert it (``"3"`` -> 3).

:mod:`ember.recipes.config` calls :func:`_convert_field` for every ``--set`` pair and YAML value;
a value that does not fit becomes a :class:`~ember.errors.ConfigError` naming the field, what it
expects in words and what it received.

Example:
    >>> _convert("32,64", tuple[int, ...], raw="32,64")
    (32, 64)
    >>> _describe(int | None)
    'an integer or none'
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, Union

import yaml

from ember.errors import ConfigError


class _Mismatch(Exception):
    """A value does not fit a type; the caller turns this into a ConfigError naming the field."""


def _convert_field(
    name: str,
    value: Any,
    *,
    raw: str | None,
    annotation: Any,
    where: str,
    recipe: str | None,
    fix: str,
) -> Any:
    """``value`` converted to field ``name``'s ``annotation``; a ConfigError ending in ``fix``."""
    try:
        return _convert(value, annotation, raw)
    except _Mismatch:
        received = repr(raw) if raw is not None else repr(value)
        of_recipe = f" of recipe {recipe}" if recipe else ""
        raise ConfigError(
            f"{where}: field {name!r}{of_recipe} expects {_describe(annotation)}, "
            f"received {received}. {fix}"
        ) from None


def _convert(value: Any, annotation: Any, raw: str | None) -> Any:
    """``value`` checked against ``annotation`` and converted (``"3"`` -> 3 for ``int``).

    ``raw`` is the text typed after ``--set key=`` (None for values from a mapping): a ``str`` field
    keeps it as typed, so ``--set run_name=2024`` is the string ``"2024"``, not an integer.
    """
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if annotation is Any or isinstance(annotation, (str, typing.ForwardRef)):
        return value  # unresolvable annotation: nothing to check against
    if origin is Literal:
        return _convert_literal(value, arguments, raw)
    if origin is Union or origin is types.UnionType:
        return _convert_union(value, arguments, raw)
    if origin in (tuple, list) or annotation in (tuple, list):
        return _convert_sequence(value, origin or annotation, arguments, raw)
    if annotation is bool:
        return _convert_bool(value)
    if annotation is int:
        return _convert_int(value)
    if annotation is float:
        return _convert_float(value)
    if annotation is str:
        if isinstance(value, str):
            return value
        if raw is not None:
            return raw  # YAML read "on" as True or "1:30" as 90; the user typed a string
        raise _Mismatch
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise _Mismatch
    return value


def _convert_literal(value: Any, choices: tuple[Any, ...], raw: str | None) -> Any:
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return choice
        if raw is not None and raw == str(choice):
            return choice
    raise _Mismatch


def _convert_union(value: Any, members: tuple[Any, ...], raw: str | None) -> Any:
    if type(None) in members and (
        value is None or (isinstance(value, str) and value.lower() == "none")
    ):
        return None
    for member in members:
        if member is type(None):
            continue
        try:
            return _convert(value, member, raw)
        except _Mismatch:
            pass
    raise _Mismatch


def _convert_sequence(
    value: Any, container: type, arguments: tuple[Any, ...], raw: str | None
) -> Any:
    variadic = container is list or not arguments or (len(arguments) == 2 and arguments[1] is ...)
    if raw == "":  # `--set feature_maps=`: none at all (YAML reads the empty text as None)
        value = ""
    if isinstance(value, str):  # "32,64" from --set, or a quoted YAML string
        text = value.strip()
        pieces = [piece.strip() for piece in text.split(",")] if text else []
        items, raws = [_parse_text(piece) for piece in pieces], pieces
    elif isinstance(value, (list, tuple)):
        items, raws = list(value), [None] * len(value)
    elif value is not None and variadic:  # widths=32 -> (32,)
        items, raws = [value], [raw]
    else:
        raise _Mismatch
    if not arguments:
        item_types = [Any] * len(items)
    elif variadic:
        item_types = [arguments[0]] * len(items)
    else:
        if len(items) != len(arguments):
            raise _Mismatch
        item_types = list(arguments)
    converted = [
        _convert(item, item_type, item_raw)
        for item, item_type, item_raw in zip(items, item_types, raws)
    ]
    return tuple(converted) if container is tuple else converted


def _convert_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
    raise _Mismatch


def _convert_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Mismatch  # True is an int to Python, never a sensible epoch count
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                value = float(value)  # "1e4" (YAML reads it as a string)
            except ValueError:
                raise _Mismatch from None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise _Mismatch


def _convert_float(value: Any) -> float:
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):  # "1e-3": YAML 1.1 wants a dot in floats, so reads it as a string
        try:
            return float(value.strip())
        except ValueError:
            raise _Mismatch from None
    raise _Mismatch


_DESCRIPTIONS = {
    int: "an integer",
    float: "a float",
    bool: "a boolean (true or false)",
    str: "a string",
}
_PLURALS = {int: "integers", float: "floats", bool: "booleans (true or false)", str: "strings"}


def _describe(annotation: Any) -> str:
    """What a type expects, in words: ``int | None`` -> "an integer or none"."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(choice) for choice in arguments)
    if origin is Union or origin is types.UnionType:
        return " or ".join("none" if a is type(None) else _describe(a) for a in arguments)
    if origin in (tuple, list) or annotation in (tuple, list):
        if not arguments:
            return "a list"
        if origin is list or (len(arguments) == 2 and arguments[1] is ...):
            items = _PLURALS.get(arguments[0], f"{_describe(arguments[0])} values")
            return f"a list of {items}"
        items = ", ".join(_describe(argument) for argument in arguments)
        return f"a list of {len(arguments)} values ({items})"
    if annotation in _DESCRIPTIONS:
        return _DESCRIPTIONS[annotation]
    return getattr(annotation, "__name__", None) or str(annotation)


def type_name(annotation: Any) -> str:
    """A field's type as ``ember train RECIPE --help`` shows it: ``int | none``, ``list[int]``.

    Example:
        >>> type_name(tuple[int, ...]), type_name(float | None), type_name(Literal["a", "b"])
        ('list[int]', 'float | none', 'a | b')
    """
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return " | ".join(str(choice) for choice in arguments)
    if origin is Union or origin is types.UnionType:
        return " | ".join(type_name(argument) for argument in arguments)
    if origin in (tuple, list) and arguments:
        if origin is list or arguments[-1] is ...:
            return f"list[{type_name(arguments[0])}]"
        return f"[{', '.join(type_name(argument) for argument in arguments)}]"
    if annotation is type(None):
        return "none"
    return getattr(annotation, "__name__", None) or str(annotation)


def _type_hints(cls: type) -> dict[str, Any]:
    """Field types with string annotations (``from __future__ import annotations``) resolved."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # a name only imported under TYPE_CHECKING, say: leave such fields unchecked
        return {field.name: field.type for field in dataclasses.fields(cls)}


def _parse_text(text: str) -> Any:
    """A ``--set`` value as YAML reads it (``3`` -> 3, ``[1, 2]`` -> [1, 2]); bad YAML stays text."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text.strip()
