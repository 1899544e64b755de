"""Run folders: ``runs/<recipe>-<YYYYmmdd-HHMMSS>/`` and the resolved ``config.yaml`` in them.

A folder is an ember run when it holds both ``config.yaml`` (with a ``recipe`` key) and
``metrics.jsonl``. Nothing outside a new run folder is written, and an existing folder that is
not an empty one is never written into by ``ember train``.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember import recipes
from ember.errors import ConfigError, RunError
from ember.files import atomic_path
from ember.recipes import config as run_config
from ember.recipes import config_yaml
from ember.runs.metrics_log import METRICS_FILE
from ember.train.precision import resolve_device
from ember.version import __version__

CONFIG_FILE = "config.yaml"


def is_run(path: Path) -> bool:
    """True if ``path`` is a run folder written by ``ember train``."""
    path = Path(path)
    return (path / CONFIG_FILE).is_file() and (path / METRICS_FILE).is_file()


def check_run(path: Path) -> Path:
    """Return ``path`` if it is a run, else raise :class:`RunError` saying what a run is."""
    path = Path(path)
    if not path.exists():
        raise RunError(
            f"{path} does not exist. Fix: pass a run folder made by `ember train` "
            f"(they are under runs/ unless --out was given)."
        )
    if not is_run(path):
        raise RunError(
            f"{path} is not an ember run (a run folder holds config.yaml and metrics.jsonl). "
            f"Fix: pass a folder made by `ember train`, e.g. one listed by `ls runs/`."
        )
    return path


def new_run_dir(recipe: str, out: Path | None = None, root: Path = Path("runs")) -> Path:
    """Create the folder for a new run: ``out`` if given (it must not exist or be empty), else
    ``root/<recipe>-<time>``. Raises before creating anything when ``out`` is unusable."""
    check_new_run_dir(out)
    if out is not None:
        path = Path(out)
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{recipe}-{stamp}"
        suffix = 2
        while path.exists():
            path = Path(root) / f"{recipe}-{stamp}-{suffix}"
            suffix += 1
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / METRICS_FILE).touch()
    except OSError as error:
        raise RunError(f"cannot create the run folder {path} ({error}).") from error
    return path


def check_new_run_dir(out: Path | None) -> None:
    """Raise :class:`RunError` unless ``out`` is None, missing or an empty folder."""
    if out is not None:
        out = Path(out)
        if is_run(out):
            raise RunError(
                f"{out} already holds a run. Fix: continue it with `ember resume {out}`, or pass "
                f"another --out folder."
            )
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            kind = "a folder that is not empty" if out.is_dir() else "a file"
            raise RunError(
                f"--out {out} is {kind} and not an ember run; ember will not write into it. "
                f"Fix: pass a new or empty folder."
            )


def resolve_config(config: Any) -> Any:
    """The config with ``device: auto`` replaced by the device it resolves to here."""
    device = resolve_device(config.device)
    name = device.type if device.index is None else f"{device.type}:{device.index}"
    return dataclasses.replace(config, device=name)


def write_config(run: Path, recipe: str, config: Any) -> None:
    """Write the fully resolved ``config.yaml`` (with versions): ``ember train`` on it repeats the run."""
    versions = {
        "ember": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    with atomic_path(Path(run) / CONFIG_FILE) as tmp:
        tmp.write_text(config_yaml.to_yaml(config, recipe, versions))


def read_config(run: Path) -> tuple[recipes.Recipe, Any]:
    """The recipe and config a run was made with."""
    path = Path(run) / CONFIG_FILE
    name, fields = config_yaml.load_yaml(path)
    if name is None:
        raise ConfigError(f"{path} names no recipe. Fix: add a line `recipe: fashion-mlp` (say).")
    recipe = recipes.get(name)
    return recipe, run_config.from_mapping(recipe.config_class, fields, str(path), recipe=name)
