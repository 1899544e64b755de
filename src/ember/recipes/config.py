"""Typed recipe configs: one dataclass per recipe, overridden from ``--set key=value`` or YAML.

A recipe's settings live in a ``@dataclass`` with one comment per field (nanoGPT style). This module
reads those comments, applies command-line overrides and YAML files with type checks, and writes a
run's config back out as YAML that ``ember train`` can run again.

Example:
    >>> config = apply_overrides(RecipeConfig(), ["epochs=3", "device=cpu"])
    >>> config.epochs, config.device
    (3, 'cpu')
    >>> field_comments(RecipeConfig)["batch_size"]
    'samples per training step'
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import io
import math
import os
import textwrap
import tokenize
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from ember.errors import ConfigError

ConfigT = TypeVar("ConfigT")


@dataclasses.dataclass
class RecipeConfig:
    """Settings every recipe has; a recipe's ``Config`` subclasses this and adds its own fields."""

    seed: int = 0  # seeds every random number generator; same seed, same machine -> same run
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    epochs: int = 10  # passes over the training data
    batch_size: int = 32  # samples per training step


# ---------------------------------------------------------------------------------------------
# Field comments
# ---------------------------------------------------------------------------------------------


def field_comments(cls: type | object) -> dict[str, str]:
    """Each dataclass field's trailing ``# comment``, read from the class source ("" if none).

    Base classes are read too, so inherited fields keep their comments. A class whose source
    cannot be found (defined in a REPL, say) gets empty strings.

    Example:
        >>> field_comments(RecipeConfig)["epochs"]
        'passes over the training data'
    """
    cls = cls if isinstance(cls, type) else type(cls)
    comments = {field.name: "" for field in dataclasses.fields(cls)}
    for klass in reversed(cls.__mro__):  # base first, so a subclass that redefines a field wins
        if klass is object:
            continue
        for name, comment in _class_comments(klass).items():
            if name in comments and comment:
                comments[name] = comment
    return comments


def _class_comments(klass: type) -> dict[str, str]:
    """``{name: comment}`` for the annotated assignments directly in ``klass``'s body."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # no source file: REPL, doctest, compiled module
        return {}
    comments: dict[str, str] = {}
    body_depth = 1  # the class statement sits at indentation depth 0 after dedent
    depth = 0
    statement: list[tokenize.TokenInfo] = []  # tokens of the logical line being read
    statement_depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.INDENT:
                depth += 1
            elif token.type == tokenize.DEDENT:
                depth -= 1
            elif token.type == tokenize.NEWLINE:
                name, comment = _annotated_name_and_comment(statement)
                if name is not None and statement_depth == body_depth:
                    comments[name] = comment
                statement = []
            elif token.type != tokenize.NL:
                if not statement:
                    statement_depth = depth
                statement.append(token)
    except (tokenize.TokenError, SyntaxError):
        pass  # keep what was read; a comment is never worth crashing over
    return comments


def _annotated_name_and_comment(statement: list[tokenize.TokenInfo]) -> tuple[str | None, str]:
    code = [token for token in statement if token.type != tokenize.COMMENT]
    if len(code) < 2 or code[0].type != tokenize.NAME or code[1].string != ":":
        return None, ""
    comments = [token.string for token in statement if token.type == tokenize.COMMENT]
    # The trailing comment is the last one; a field spread over lines may carry others inside.
    return code[0].string, comments[-1].lstrip("#").strip() if comments else ""


# ---------------------------------------------------------------------------------------------
# Overrides and mappings
# ---------------------------------------------------------------------------------------------


def apply_overrides(config: ConfigT, pairs: Sequence[str], *, recipe: str | None = None) -> ConfigT:
    """Return a new config with ``pairs`` like ``["hidden_units=256", "dropout=0.3"]`` applied.

    Each value is read as YAML, then checked and converted against the field's type, so
    ``widths=32,64`` and ``widths=[32, 64]`` both give ``(32, 64)`` and ``train_samples=none`` gives
    ``None``. Later pairs win over earlier ones. ``recipe`` names the recipe in error messages.

    Example:
        >>> config = apply_overrides(RecipeConfig(), ["epochs=5", "seed=1"])
        >>> config.epochs, config.seed
        (5, 1)
        >>> apply_overrides(RecipeConfig(), ["epochs=five"])
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: --set epochs=five: field 'epochs' expects an integer, received 'five'. ...
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a config dataclass instance, received {config!r}")
    cls = type(config)
    fields = _init_fields(cls)
    hints = _type_hints(cls)
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        key = key.strip()
        if not separator or not key:
            raise ConfigError(_missing_equals_message(pair, config, fields))
        where = f"--set {pair}"
        if key not in fields:
            raise ConfigError(_unknown_key_message(key, cls, fields, recipe, where))
        changes[key] = _convert_field(
            key,
            _parse_text(text),
            raw=text.strip(),
            annotation=hints[key],
            where=where,
            recipe=recipe,
            fix=f"Pass a valid value, e.g. --set {key}={_as_set_text(getattr(config, key))}.",
        )
    return dataclasses.replace(config, **changes)


def from_mapping(
    cls: type[ConfigT],
    mapping: Mapping[str, Any],
    source: str = "the config mapping",
    *,
    recipe: str | None = None,
) -> ConfigT:
    """Build a ``cls`` config from ``mapping`` (e.g. loaded YAML), checking every value's type.

    Keys left out keep their defaults. ``source`` names where the values came from (a file path or
    ``"--set"``) and ``recipe`` the recipe, for error messages.

    Example:
        >>> from_mapping(RecipeConfig, {"epochs": 2, "batch_size": 64}, "run.yaml")
        RecipeConfig(seed=0, device='auto', epochs=2, batch_size=64)
        >>> from_mapping(RecipeConfig, {"epoch": 2}, "run.yaml", recipe="fashion-mlp")
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: unknown config key 'epoch' for recipe fashion-mlp. Did you mean 'epochs'? ...
    """
    if not isinstance(mapping, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping of config keys to values, received "
            f"{type(mapping).__name__} {mapping!r}. Write one `key: value` per setting."
        )
    fields = _init_fields(cls)
    hints = _type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(key, cls, fields, recipe, source))
        example = _field_default(fields[key])
        fix = f"Fix it in {source}"
        if example is not dataclasses.MISSING:
            fix += f", e.g. {_as_yaml_text(key, example)}"
        values[key] = _convert_field(
            key, value, raw=None, annotation=hints[key], where=source, recipe=recipe, fix=fix + "."
        )
    missing = [
        name
        for name, field in fields.items()
        if name not in values and _field_default(field) is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(
            f"{source}: missing required config key(s) {', '.join(missing)}"
            f"{_for_recipe(cls, recipe)}. Add a `key: value` line for each."
        )
    return cls(**values)


def _init_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The fields a user may set (those the dataclass ``__init__`` takes), by name."""
    return {field.name: field for field in dataclasses.fields(cls) if field.init}


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


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


def _for_recipe(cls: type, recipe: str | None) -> str:
    return f" for recipe {recipe}" if recipe else f" for {cls.__name__}"


def _unknown_key_message(
    key: Any, cls: type, fields: Mapping[str, Any], recipe: str | None, where: str
) -> str:
    message = f"unknown config key {key!r}{_for_recipe(cls, recipe)}."
    close = difflib.get_close_matches(str(key), list(fields), n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    return message + f" Valid keys: {', '.join(sorted(fields))}. Fix the key in {where}."


def _missing_equals_message(pair: str, config: Any, fields: Mapping[str, Any]) -> str:
    key = pair.strip()
    if key in fields:
        example = f"--set {key}={_as_set_text(getattr(config, key))}"
    else:
        example = "--set epochs=5"
    return (
        f"--set expects key=value, received {pair!r}. Write each override as --set key=value, "
        f"e.g. {example}."
    )


# ---------------------------------------------------------------------------------------------
# Type checks
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# YAML files
# ---------------------------------------------------------------------------------------------


def load_yaml(path: str | os.PathLike[str]) -> tuple[str | None, dict[str, Any]]:
    """Read a run config file: ``(recipe name from its "recipe" key or None, the other fields)``.

    The ``versions`` key (written by :func:`to_yaml` for the record) is dropped. An empty file
    gives ``(None, {})``.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "run.yaml"
        ...     _ = path.write_text("recipe: fashion-mlp\\nepochs: 3\\n")
        ...     load_yaml(path)
        ('fashion-mlp', {'epochs': 3})
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"config path {str(path)!r} is a directory, expected a YAML file. Pass the path of a "
            f"config file, e.g. {str(path / 'config.yaml')!r}."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(path)!r} does not exist. Check the path (relative paths start "
            f"from the current directory, {os.getcwd()!r})."
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"config file {str(path)!r} is not UTF-8 text ({error.reason} at byte {error.start}). "
            f"Save it as UTF-8 YAML."
        ) from None
    except OSError as error:
        raise ConfigError(
            f"could not read config file {str(path)!r}: {error.strerror or error}. Check that the "
            f"file is readable by you (its permissions)."
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(
            f"config file {str(path)!r} is not valid YAML: {_yaml_problem(error)}. Fix the syntax "
            f"there; each setting is one `key: value` line, e.g. `epochs: 5`."
        ) from None
    if document is None:
        return None, {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"config file {str(path)!r} must hold a mapping of `key: value` lines at its top "
            f"level, received {type(document).__name__} {_short_repr(document)}. Write one "
            f"`key: value` per line, e.g. `epochs: 5`."
        )
    fields = dict(document)
    fields.pop("versions", None)
    recipe = fields.pop("recipe", None)
    if recipe is not None and not isinstance(recipe, str):
        raise ConfigError(
            f"config file {str(path)!r}: 'recipe' must be a recipe name (a string), received "
            f"{recipe!r}. Write e.g. `recipe: fashion-mlp`."
        )
    return recipe, fields


def to_yaml(config: Any, recipe: str, versions: Mapping[str, str]) -> str:
    """A YAML run config: header, ``recipe``, every field with its comment above it, ``versions``.

    Tuples are written as YAML lists; :func:`load_yaml` plus :func:`from_mapping` read it back
    to an equal config.

    Example:
        >>> print(to_yaml(RecipeConfig(epochs=3), "fashion-mlp", {"ember": "0.1.0"}), end="")
        # ember run config — run it again with: ember train <this file>
        recipe: fashion-mlp
        # seeds every random number generator; same seed, same machine -> same run
        seed: 0
        # "auto", "cpu", "cuda", "cuda:1", ...
        device: auto
        # passes over the training data
        epochs: 3
        # samples per training step
        batch_size: 32
        versions:
          ember: 0.1.0
    """
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a config dataclass instance, received {config!r}")
    comments = field_comments(type(config))
    lines = [
        "# ember run config — run it again with: ember train <this file>",
        _dump({"recipe": recipe}, "recipe"),
    ]
    for name in _init_fields(type(config)):
        if comments.get(name):
            lines.append(f"# {comments[name]}")
        lines.append(_dump({name: _plain(getattr(config, name))}, name))
    if versions:
        lines.append("versions:")
        lines.extend(
            "  " + _dump({str(package): str(version)}, "versions")
            for package, version in versions.items()
        )
    else:
        lines.append("versions: {}")
    return "\n".join(lines) + "\n"


def _dump(entry: dict[str, Any], name: str) -> str:
    """One ``key: value`` YAML line; lists in flow style (``widths: [32, 64]``)."""
    ((key, value),) = entry.items()
    try:
        return f"{_flow(key)}: {_flow(value)}"
    except yaml.YAMLError as error:
        raise ConfigError(
            f"config field {name!r} holds {_short_repr(value)}, which YAML cannot store "
            f"({error}). Use a number, string, boolean, None or a list of those."
        ) from None


def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=2**31)
    return text.removesuffix("\n").removesuffix("\n...")


def _plain(value: Any) -> Any:
    """Tuples (which ``safe_dump`` refuses) as lists, recursively."""
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _as_set_text(value: Any) -> str:
    """How ``value`` is typed after ``--set key=``: ``(32, 64)`` -> ``32,64``, None -> ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(_as_set_text(item) for item in value)
    return str(value)


def _as_yaml_text(name: str, value: Any) -> str:
    try:
        return _dump({name: _plain(value)}, name)
    except ConfigError:
        return f"{name}: {value!r}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        problem += f" at line {mark.line + 1}, column {mark.column + 1}"
    return problem


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
