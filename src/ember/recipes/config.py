"""Typed run configs: one dataclass per recipe, overridden from ``--set key=value`` or YAML.

A recipe's settings live in a ``@dataclass`` with one comment per field (nanoGPT style,
read by :mod:`ember.recipes.config_fields`); its base :class:`RecipeConfig` holds what every run
has. This module applies command-line overrides and mappings read from YAML, checking each value
against its field's type (:mod:`ember.recipes.config_types`), and checks the values' ranges
(:func:`check_fields`, with :mod:`ember.checks`) before any data loads. Reading and writing
``config.yaml`` is :mod:`ember.recipes.config_yaml`'s job.

Example:
    >>> config = apply_overrides(RecipeConfig(), ["epochs=3", "device=cpu"])
    >>> config.epochs, config.device
    (3, 'cpu')
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, TypeVar

from ember import checks
from ember.errors import ConfigError
from ember.recipes.config_fields import field_comments, field_default, init_fields
from ember.recipes.config_types import _convert_field, _parse_text, _type_hints, type_name
from ember.recipes.config_yaml import _as_yaml_text

ConfigT = TypeVar("ConfigT")

# A check from ember.checks: ``check(name, value, *, fix=...)`` returns the value or raises.
Check = Callable[..., Any]
# The checks that need more than a name and a value, for a Config's ``field_checks``.
fraction = partial(checks.number_in, low=0, high=1)  # a share of the data in [0, 1)
open_fraction = partial(checks.number_in, low=0, high=1, closed="()")  # in (0, 1)
positive_int_or_none = partial(checks.positive_int, allow_none=True)


@dataclasses.dataclass
class RecipeConfig:
    """Settings every recipe has; a recipe's ``Config`` subclasses this and adds its own fields."""

    seed: int = 0  # seeds every random number generator; same seed, same machine -> same run
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1", ...
    epochs: int = 10  # passes over the training data
    batch_size: int = 32  # samples per training step
    feature_maps: tuple[str, ...] = ("pca",)  # classifier reports' feature maps: pca, tsne

    # How each numeric field is checked before any data loads (see check_fields). A recipe's
    # Config lists its own fields in its own field_checks; these apply to every recipe.
    field_checks: ClassVar[dict[str, Check]] = {
        "seed": checks.non_negative_int,
        "epochs": checks.positive_int,  # 0 epochs would make a run without a checkpoint
        "batch_size": checks.positive_int,
    }


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
    fields = init_fields(cls)
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
            fix=f"Pass a valid value, e.g. --set {key}={as_set_text(getattr(config, key))}.",
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
        RecipeConfig(seed=0, device='auto', epochs=2, batch_size=64, feature_maps=('pca',))
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
    fields = init_fields(cls)
    hints = _type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(key, cls, fields, recipe, source))
        example = field_default(fields[key])
        fix = f"Fix it in {source}"
        if example is not dataclasses.MISSING:
            fix += f", e.g. {_as_yaml_text(key, example)}"
        values[key] = _convert_field(
            key, value, raw=None, annotation=hints[key], where=source, recipe=recipe, fix=fix + "."
        )
    missing = [
        name
        for name, field in fields.items()
        if name not in values and field_default(field) is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(
            f"{source}: missing required config key(s) {', '.join(missing)}"
            f"{_for_recipe(cls, recipe)}. Add a `key: value` line for each."
        )
    return cls(**values)


# ---------------------------------------------------------------------------------------------
# Range checks and the settings table
# ---------------------------------------------------------------------------------------------


def check_fields(config: Any, *, defaults: Any = None) -> None:
    """Check the fields named in ``field_checks`` (the config class's and its bases').

    The error names the field and, as the fix, its value in ``defaults`` (a config of the same
    recipe; default: the class's own defaults).

    Example:
        >>> check_fields(RecipeConfig(epochs=0))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a positive integer, received epochs=0. Fix: --set epochs=10
    """
    fields = init_fields(type(config))
    for name, check in all_field_checks(type(config)).items():
        default = field_default(fields[name]) if defaults is None else getattr(defaults, name)
        check(name, getattr(config, name), fix=f"--set {name}={as_set_text(default)}")


def all_field_checks(cls: type) -> dict[str, Check]:
    """``field_checks`` of ``cls`` and of its bases, a subclass's entry winning."""
    merged: dict[str, Check] = {}
    for klass in reversed(cls.__mro__):
        merged.update(vars(klass).get("field_checks", {}))
    return merged


def describe_fields(config: Any) -> list[tuple[str, str, str, str]]:
    """``(name, type, value as typed after --set, comment)`` for each field of ``config``.

    Example:
        >>> describe_fields(RecipeConfig())[2]
        ('epochs', 'int', '10', 'passes over the training data')
    """
    hints, comments = _type_hints(type(config)), field_comments(config)
    return [
        (name, type_name(hints[name]), as_set_text(getattr(config, name)), comments[name])
        for name in init_fields(type(config))
    ]


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
        example = f"--set {key}={as_set_text(getattr(config, key))}"
    else:
        example = "--set epochs=5"
    return (
        f"--set expects key=value, received {pair!r}. Write each override as --set key=value, "
        f"e.g. {example}."
    )


def as_set_text(value: Any) -> str:
    """How ``value`` is typed after ``--set key=``: ``(32, 64)`` -> ``32,64``, None -> ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(as_set_text(item) for item in value)
    return str(value)


__all__ = [
    "RecipeConfig",
    "apply_overrides",
    "as_set_text",
    "check_fields",
    "describe_fields",
    "from_mapping",
]
