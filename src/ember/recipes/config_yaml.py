"""Run config files: read one with :func:`load_yaml`, write one with :func:`to_yaml`.

A run's ``config.yaml`` names its recipe, lists every field with that field's comment above it and
records the package versions. ``ember train config.yaml`` runs it again; the values it reads are
checked by :func:`ember.recipes.config.from_mapping`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ember.errors import ConfigError
from ember.recipes.config_fields import field_comments, init_fields


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

    Tuples are written as YAML lists; :func:`load_yaml` plus
    :func:`~ember.recipes.config.from_mapping` read it back to an equal config.

    Example:
        >>> from ember.recipes.config import RecipeConfig
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
        # classifier reports' feature maps: pca, tsne
        feature_maps: [pca]
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
    for name in init_fields(type(config)):
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


def _as_yaml_text(name: str, value: Any) -> str:
    """``name: value`` as a config file line, for error messages (the repr if YAML cannot)."""
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
