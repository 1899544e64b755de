"""A search's settings (``tune.json`` in its folder, read by every worker), Optuna's sampler and
pruner by name, and the study opened from its storage with what it was made with checked.

A study records the recipe, metric, direction, search space and base config it was made with
(one user attribute); opening it again with other settings is an error, so a resumed search
never mixes trials of two different questions.

Example:
    >>> from ember import recipes
    >>> from ember.tune.space import read_space
    >>> recipe = recipes.get("fashion-mlp")
    >>> space = read_space({"dropout": [0.1, 0.3]}, recipe, recipe.config())
    >>> type(make_sampler("grid", space, seed=0)).__name__
    'GridSampler'
    >>> type(make_pruner("hyperband", epochs=9)).__name__
    'HyperbandPruner'
    >>> sampler_seed(7, worker=0, existing=0), sampler_seed(7, worker=1, existing=0) == 7
    (7, False)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import json_to_distribution

from ember import checks
from ember.errors import ConfigError
from ember.files import atomic_path
from ember.recipes.config import as_set_text
from ember.tune.space import SearchSpace
from ember.tune.storage import default_url, shown_url

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
DIRECTIONS = ("maximize", "minimize")
SPEC_FILE = "tune.json"
BASE_CONFIG_FILE = "base-config.yaml"  # the config every trial starts from
RECORD_ATTR = "ember"  # the study's user attribute holding what it was made with
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclasses.dataclass
class TuneSpec:
    """A search's settings, as ``FOLDER/tune.json``: what every worker process reads."""

    recipe: str
    study: str
    trials: int  # finished (complete or pruned) trials the study should hold
    metric: str
    direction: str
    space: dict[str, str]  # config key -> Optuna's JSON of its distribution
    sampler: str = "tpe"
    pruner: str = "median"
    storage: str | None = None  # its URL, password hidden; None: the folder's own SQLite file
    seed: int | None = None
    heartbeat: int = 10  # seconds between a running trial's heartbeats

    def storage_url(self, folder: Path) -> str:
        """The storage URL (the folder's ``study.db`` when none was given)."""
        return self.storage or default_url(folder)

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """The search space's distributions."""
        return {name: json_to_distribution(text) for name, text in self.space.items()}

    def write(self, folder: Path) -> None:
        """Write ``folder/tune.json`` atomically."""
        with atomic_path(Path(folder) / SPEC_FILE) as temporary:
            temporary.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> TuneSpec:
        """Read ``folder/tune.json``."""
        return cls(**json.loads((Path(folder) / SPEC_FILE).read_text(encoding="utf-8")))


def sampler_seed(seed: int | None, *, worker: int, existing: int) -> int | None:
    """The seed of one worker's sampler: ``seed`` itself for the first worker of a new study, and
    a different stream for every other worker and for a resumed study (a seeded sampler started
    again would propose its first points again)."""
    if seed is None or (worker == 0 and existing == 0):
        return seed
    return int(np.random.SeedSequence([seed, worker, existing]).generate_state(1)[0])


def make_sampler(name: str, space: SearchSpace, seed: int | None) -> optuna.samplers.BaseSampler:
    """Optuna's sampler called ``name`` (tpe, random or grid) for ``space``."""
    checks.one_of("sampler", name, SAMPLERS, fix="--sampler tpe, random or grid")
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """Optuna's pruner called ``name`` (median, hyperband or none); a step is an epoch."""
    checks.one_of("pruner", name, PRUNERS, fix="--pruner median, hyperband or none")
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)
    return optuna.pruners.NopPruner()


def record(spec: TuneSpec, base: Any) -> dict[str, Any]:
    """What a study is made with: a resumed search must ask the same question."""
    fields = {f.name: as_set_text(getattr(base, f.name)) for f in dataclasses.fields(base)}
    return {
        "recipe": spec.recipe,
        "metric": spec.metric,
        "direction": spec.direction,
        "space": spec.space,
        "config": fields,
    }


def stored_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    """The study called ``name`` in ``storage``, or None when there is none yet."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def check_record(study: optuna.Study, expected: dict[str, Any], url: str) -> None:
    """Raise a ConfigError if ``study`` was made with other settings than ``expected``."""
    stored = study.user_attrs.get(RECORD_ATTR)
    if stored is None:
        if study.trials:
            raise ConfigError(
                f"study {study.study_name!r} in {shown_url(url)} was not made by ember tune. "
                f"Fix: pass another --study name."
            )
        return
    differences = [
        f"{key}: {_differs(stored.get(key), value)}"
        for key, value in expected.items()
        if stored.get(key) != value
    ]
    if differences:
        raise ConfigError(
            f"study {study.study_name!r} in {shown_url(url)} was made with other settings "
            f"({'; '.join(differences)}). Fix: run it with the same recipe, --set values, "
            f"space and metric to continue it, or pass another --study (or --out) to start a "
            f"new search."
        )


def open_study(
    spec: TuneSpec,
    storage: optuna.storages.BaseStorage,
    space: SearchSpace,
    *,
    worker: int = 0,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    """Create the study or load it (after checking it asks the same question), with the
    sampler and pruner ``spec`` names unless given."""
    existing = stored_study(storage, spec.study)
    expected = record(spec, space.base)
    if existing is not None:
        check_record(existing, expected, str(getattr(storage, "url", "")))
    if sampler is None and spec.sampler == "grid":
        # Optuna's grid sampler gives trial n the n-th point of its shuffled grid: every worker
        # and every resume must shuffle it alike to share the grid out.
        sampler = make_sampler("grid", space, 0 if spec.seed is None else spec.seed)
    elif sampler is None:
        count = 0 if existing is None else len(existing.trials)
        seed = sampler_seed(spec.seed, worker=worker, existing=count)
        sampler = make_sampler(spec.sampler, space, seed)
    study = optuna.create_study(
        storage=storage,
        study_name=spec.study,
        direction=spec.direction,
        sampler=sampler,
        pruner=pruner or make_pruner(spec.pruner, space.base.epochs),
        load_if_exists=True,
    )
    if RECORD_ATTR not in study.user_attrs:
        study.set_user_attr(RECORD_ATTR, expected)
    return study


def _differs(stored: Any, given: Any) -> str:
    if isinstance(stored, dict) and isinstance(given, dict):
        keys = sorted(k for k in {*stored, *given} if stored.get(k) != given.get(k))
        shown = ", ".join(f"{k} {stored.get(k)!r} then, {given.get(k)!r} now" for k in keys)
        return shown
    return f"{stored!r} then, {given!r} now"


__all__ = [
    "TuneSpec",
    "check_record",
    "make_pruner",
    "make_sampler",
    "open_study",
    "record",
    "sampler_seed",
]
