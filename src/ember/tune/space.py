"""A search space: recipe config keys mapped to Optuna distributions, read from YAML and checked.

Each key of ``space.yaml`` is a key of the recipe's config (``ember list RECIPE`` shows them) and
its value says what the search may try::

    learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}   # a float range, sampled on a log scale
    hidden_units: {low: 32, high: 512}                      # an integer range
    batch_size: {choices: [32, 64, 128]}                    # categorical
    dropout: [0.0, 0.2, 0.4]                                # grid values (categorical elsewhere)

Every key and every value is checked before any trial runs, by the recipe's own config machinery
(:func:`ember.recipes.config.from_mapping` for the types, ``Recipe.check`` for the ranges), so a
value the recipe would refuse never reaches a trial.

Example:
    >>> from ember import recipes
    >>> recipe = recipes.get("fashion-mlp")
    >>> space = read_space({"dropout": [0.1, 0.3], "hidden_units": {"low": 8, "high": 64}},
    ...                    recipe, recipe.config())
    >>> space.distributions["hidden_units"]
    IntDistribution(high=64, log=False, low=8, step=1)
    >>> space.config({"dropout": 0.3, "hidden_units": 16}).hidden_units
    16
    >>> read_space({"dropout": {"low": 0.5, "high": 0.1}}, recipe, recipe.config())
    Traceback (most recent call last):
    ...
    ember.errors.ConfigError: the search space: dropout's range is empty (low 0.5 >= high 0.1). ...
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ember.errors import ConfigError
from ember.recipes import Recipe
from ember.recipes.config import as_set_text, from_mapping
from ember.recipes.config_yaml import load_yaml

RANGE_KEYS = ("low", "high", "log")
SHAPES = "{low: ..., high: ...[, log: true]}, {choices: [...]} or a list of values"


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """What a search may try (``distributions``: config key -> Optuna distribution) around
    ``base``, the config every trial starts from. Made by :func:`read_space`."""

    recipe: Recipe
    base: Any
    distributions: dict[str, BaseDistribution]
    source: str = "the search space"  # where it was read from, for messages

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Ask ``trial`` for a value of every dimension (the sampler picks them)."""
        params = {}
        for name, distribution in self.distributions.items():
            if isinstance(distribution, CategoricalDistribution):
                params[name] = trial.suggest_categorical(name, distribution.choices)
            elif isinstance(distribution, IntDistribution):
                params[name] = trial.suggest_int(
                    name, distribution.low, distribution.high, log=distribution.log
                )
            else:
                params[name] = trial.suggest_float(
                    name, distribution.low, distribution.high, log=distribution.log
                )
        return params

    def config(self, params: Mapping[str, Any]) -> Any:
        """The base config with ``params`` applied (type-checked like a config file)."""
        # A tuple choice travels through Optuna as its --set text ("32,64"); the field's type
        # turns it back into a tuple here.
        return from_mapping(
            type(self.base),
            {**_values(self.base), **params},
            self.source,
            recipe=self.recipe.name,
        )

    def grid(self) -> dict[str, list[Any]]:
        """Each dimension's values, for Optuna's ``GridSampler``: every one must be a list."""
        ranges = [
            name
            for name, distribution in self.distributions.items()
            if not isinstance(distribution, CategoricalDistribution)
        ]
        if ranges:
            name = ranges[0]
            distribution = self.distributions[name]
            raise ConfigError(
                f"{self.source}: grid search needs every dimension as a list of values, "
                f"received the range {name}: {{low: {distribution.low}, high: "
                f"{distribution.high}}}. Fix: list the values to try, e.g. {name}: "
                f"[{distribution.low}, {distribution.high}], or use --sampler tpe or random."
            )
        return {name: list(d.choices) for name, d in self.distributions.items()}

    def as_json(self) -> dict[str, str]:
        """The distributions as Optuna's JSON, to record with a study and compare on resume."""
        return {
            name: optuna.distributions.distribution_to_json(distribution)
            for name, distribution in self.distributions.items()
        }


def describe(distribution: BaseDistribution) -> str:
    """A distribution in words, for reports.

    Example:
        >>> describe(FloatDistribution(1e-4, 1e-2, log=True))
        'floats from 0.0001 to 0.01, log scale'
        >>> describe(CategoricalDistribution([32, 64]))
        'one of 32, 64'
    """
    if isinstance(distribution, CategoricalDistribution):
        return "one of " + ", ".join(as_set_text(choice) for choice in distribution.choices)
    kind = "integers" if isinstance(distribution, IntDistribution) else "floats"
    scale = ", log scale" if distribution.log else ""
    return f"{kind} from {distribution.low:g} to {distribution.high:g}{scale}"


def read_space(
    space: str | os.PathLike[str] | Mapping[str, Any], recipe: Recipe, base: Any
) -> SearchSpace:
    """Read and check a search space for ``recipe`` around the config ``base``.

    ``space`` is a YAML file or the mapping it holds. Raises :class:`~ember.errors.ConfigError`
    on an unknown key (listing the valid ones, the closest first), an empty range or list, an
    entry of another shape, or a value the recipe's config refuses (its type or its range).
    """
    if isinstance(space, Mapping):
        source, entries = "the search space", dict(space)
    else:
        source = str(space)
        named, entries = load_yaml(space)
        if named is not None:
            entries["recipe"] = named  # a config key it is not: refused below with the valid ones
    if not entries:
        raise ConfigError(
            f"{source}: the search space is empty. Fix: add one line per setting to search, "
            f"e.g. `learning_rate: {{low: 1.0e-4, high: 1.0e-2, log: true}}`."
        )
    distributions = {
        str(name): _distribution(str(name), spec, recipe, base, source)
        for name, spec in entries.items()
    }
    return SearchSpace(recipe, base, distributions, source)


def _distribution(name: str, spec: Any, recipe: Recipe, base: Any, source: str) -> BaseDistribution:
    fields = _values(base)
    if name not in fields:
        # from_mapping's own message: the valid keys, the closest first
        from_mapping(type(base), {name: None}, source, recipe=recipe.name)
    if isinstance(spec, (list, tuple)):
        return _choices(name, list(spec), recipe, base, source)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{source}: {name} needs {SHAPES}, received {spec!r}. Fix: write e.g. {name}: "
            f"[{as_set_text(fields[name])}, ...] (to fix one value for every trial, use "
            f"--set {name}={as_set_text(spec)})."
        )
    keys = set(spec)
    if "choices" in keys:
        if keys != {"choices"} or not isinstance(spec["choices"], (list, tuple)):
            raise ConfigError(
                f"{source}: {name}: {{choices: ...}} takes one list and nothing else, received "
                f"{dict(spec)!r}. Fix: write {name}: {{choices: [a, b, c]}}."
            )
        return _choices(name, list(spec["choices"]), recipe, base, source)
    if not {"low", "high"} <= keys or not keys <= set(RANGE_KEYS):
        raise ConfigError(
            f"{source}: {name} needs {SHAPES}, received the keys {sorted(map(str, keys))}. "
            f"Fix: a range takes low, high and optionally log, e.g. {name}: {{low: 0.1, "
            f"high: 0.5}}."
        )
    return _range(name, spec, recipe, base, source)


def _range(
    name: str, spec: Mapping[str, Any], recipe: Recipe, base: Any, source: str
) -> BaseDistribution:
    low = _checked(name, "low", spec["low"], recipe, base, source)
    high = _checked(name, "high", spec["high"], recipe, base, source)
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{source}: {name}: log must be true or false, received log={log!r}.")
    numbers = (int, float)
    if isinstance(low, bool) or not isinstance(low, numbers) or not isinstance(high, numbers):
        raise ConfigError(
            f"{source}: {name} takes {type(low).__name__} values, which have no range. "
            f"Fix: list the values to try, e.g. {name}: [{as_set_text(low)}, "
            f"{as_set_text(high)}]."
        )
    if low >= high:
        raise ConfigError(
            f"{source}: {name}'s range is empty (low {low} >= high {high}). Fix: make low "
            f"smaller than high, e.g. {name}: {{low: {high}, high: {low}}}."
        )
    if log and low <= 0:
        raise ConfigError(
            f"{source}: {name}: a log-scale range needs low > 0, received low {low}. Fix: start "
            f"it above zero (e.g. low: {high / 100:g}) or drop log: true."
        )
    if isinstance(low, int) and isinstance(high, int):
        return IntDistribution(low, high, log=log)
    return FloatDistribution(float(low), float(high), log=log)


def _choices(
    name: str, values: list[Any], recipe: Recipe, base: Any, source: str
) -> CategoricalDistribution:
    if not values:
        raise ConfigError(
            f"{source}: {name} has no values to try (an empty list). Fix: list at least one, "
            f"e.g. {name}: [{as_set_text(getattr(base, name))}]."
        )
    choices = []
    for value in values:
        checked = _checked(name, "value", value, recipe, base, source)
        # Optuna stores None, bools, numbers and strings; a tuple goes as its --set text.
        choices.append(as_set_text(checked) if isinstance(checked, (tuple, list)) else checked)
    repeated = sorted({repr(c) for c in choices if choices.count(c) > 1})
    if repeated:
        raise ConfigError(
            f"{source}: {name} lists {', '.join(repeated)} more than once. Fix: list each value "
            f"once (a grid would run it twice)."
        )
    return CategoricalDistribution(choices)


def _checked(name: str, role: str, value: Any, recipe: Recipe, base: Any, source: str) -> Any:
    """``value`` converted to field ``name``'s type, and accepted by the recipe's checks."""
    config = from_mapping(type(base), {**_values(base), name: value}, source, recipe=recipe.name)
    try:
        recipe.check(config)
    except ConfigError as error:
        problem = str(error).split(" Fix:")[0].rstrip(".")
        raise ConfigError(
            f"{source}: {name}'s {role} {value!r} is refused by recipe {recipe.name}: {problem}. "
            f"Fix: search only values it accepts ({name} is "
            f"{as_set_text(getattr(base, name))} by default)."
        ) from None
    return getattr(config, name)


def _values(config: Any) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.init}


__all__ = ["SearchSpace", "describe", "read_space"]
