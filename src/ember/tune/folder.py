"""The tune folder: a new one, or an earlier search's (whose settings it continues), and the
files every worker reads there: ``tune.json`` (the search's settings) and ``base-config.yaml``
(the config every trial starts from).

Example:
    >>> import pathlib, tempfile
    >>> folder, prior = tune_folder(pathlib.Path(tempfile.mkdtemp()) / "search", "fashion-mlp")
    >>> folder.name, prior
    ('search', None)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ember.errors import ConfigError, RunError
from ember.files import atomic_path
from ember.recipes import Recipe
from ember.recipes.config import from_mapping
from ember.recipes.config_yaml import load_yaml, to_yaml
from ember.tune.search import BASE_CONFIG_FILE, SPEC_FILE, TuneSpec
from ember.tune.storage import shown_url


def tune_folder(out: str | os.PathLike[str] | None, recipe: str) -> tuple[Path, TuneSpec | None]:
    """The tune folder (new, empty, or an earlier search's) and that search's settings;
    a folder holding anything else is refused."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder, suffix = Path("runs") / f"tune-{recipe}-{stamp}", 2
        while folder.exists():
            folder, suffix = Path("runs") / f"tune-{recipe}-{stamp}-{suffix}", suffix + 1
        return folder, None
    folder = Path(out)
    if (folder / SPEC_FILE).is_file():
        prior = TuneSpec.read(folder)
        if prior.recipe != recipe:
            raise ConfigError(
                f"{folder} holds a search of recipe {prior.recipe}, received {recipe}. Fix: pass "
                f"another --out folder, or tune {prior.recipe} to continue that search."
            )
        return folder, prior
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        kind = "a folder that is not empty" if folder.is_dir() else "a file"
        raise RunError(
            f"--out {folder} is {kind} and not a tune folder (one holds {SPEC_FILE}); ember will "
            f"not write into it. Fix: pass a new or empty folder."
        )
    return folder, None


def same_study(given: str | None, before: str, folder: Path) -> str:
    """The folder's study when none is given; an error when another is."""
    if given is not None and given != before:
        raise ConfigError(
            f"{folder} holds a search with --study {before}, received --study {given}. Fix: "
            f"leave --study out to continue that search, or pass another --out folder."
        )
    return before


def same_storage(given: str | None, before: str | None, folder: Path) -> str | None:
    """The folder's storage URL when none is given; an error when another is. The folder keeps
    a URL without its password, so such a URL must be given again."""
    if given is None and before is not None and "***" in before:
        raise ConfigError(
            f"{folder} holds a search stored in {before}, whose password is not kept in the "
            f"folder. Fix: pass the URL again with --storage."
        )
    shown = None if given is None else shown_url(given)
    if given is not None and shown != before:
        where = "the folder's own study.db" if before is None else before
        raise ConfigError(
            f"{folder} holds a search stored in {where}, received --storage {shown}. Fix: "
            f"leave --storage out (or pass the same URL) to continue it, or another --out folder."
        )
    return given if given is not None else before


def write_settings(folder: Path, spec: TuneSpec, base: Any) -> None:
    """Create ``folder`` and write ``tune.json`` and ``base-config.yaml`` into it."""
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / BASE_CONFIG_FILE) as temporary:
        temporary.write_text(to_yaml(base, spec.recipe, {}), encoding="utf-8")
    spec.write(folder)


def base_config(folder: Path, recipe: Recipe) -> Any:
    """The config every trial of the search in ``folder`` starts from."""
    path = Path(folder) / BASE_CONFIG_FILE
    _, fields = load_yaml(path)
    return from_mapping(recipe.config_class, fields, str(path), recipe=recipe.name)


__all__ = ["base_config", "same_storage", "same_study", "tune_folder", "write_settings"]
