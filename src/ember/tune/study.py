"""``ember.tune``: search a recipe's settings with Optuna, every trial an ordinary ember run.

The search lives in a tune folder (``runs/tune-<recipe>-<time>/`` unless ``out``): ``tune.json``
(its settings), ``base-config.yaml`` (what every trial starts from), ``study.db`` (the Optuna
study, unless ``storage`` names another database), one run folder per trial
(``trial-0000/`` ...) and ``report.html``. Calling it again on the same folder (or the same
storage and study) continues the search: only the trials still missing run, and a trial left
running by a killed process is failed by its heartbeat and run again.

Example:
    >>> import ember
    >>> result = ember.tune(  # doctest: +SKIP
    ...     "fashion-mlp",
    ...     {"learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}, "dropout": [0.1, 0.3]},
    ...     trials=20,
    ...     config=ember.recipes.get("fashion-mlp").config(epochs=5),
    ... )
    >>> result.best_params  # doctest: +SKIP
    {'learning_rate': 0.0031..., 'dropout': 0.1}
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ember import checks, recipes
from ember.errors import ConfigError
from ember.recipes.experiment import Experiment
from ember.tune.folder import same_storage, same_study, tune_folder, write_settings
from ember.tune.objective import RUN_DIR_ATTR, Objective
from ember.tune.report import render_tune_report
from ember.tune.search import (
    DIRECTIONS,
    PRUNERS,
    RECORD_ATTR,
    SAMPLERS,
    TuneSpec,
    check_record,
    open_study,
    record,
    stored_study,
)
from ember.tune.space import SearchSpace, read_space
from ember.tune.storage import STUDY_FILE, default_url, open_storage, shown_url
from ember.tune.workers import optimize, start_workers, stop_workers, wait_for_workers

# Metrics whose names contain one of these are minimised when no direction is given.
MINIMISED = ("loss", "error", "mse", "mae", "perplexity", "bits")


@dataclass
class TuneResult:
    """What a search ended with: its folder, the Optuna study, the metric and the report."""

    folder: Path
    study: optuna.Study
    metric: str
    direction: str
    report: Path

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best complete trial (None while no trial has completed)."""
        if not self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            return None
        return self.study.best_trial

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The best trial's settings."""
        return None if self.best_trial is None else self.best_trial.params

    @property
    def best_value(self) -> float | None:
        """The best trial's metric at its last epoch."""
        return None if self.best_trial is None else self.best_trial.value

    @property
    def best_run(self) -> Path | None:
        """The best trial's run folder."""
        trial = self.best_trial
        return None if trial is None else Path(trial.user_attrs[RUN_DIR_ATTR])

    def counts(self) -> dict[str, int]:
        """How many trials are in each state (``COMPLETE``, ``PRUNED``, ``FAIL``, ...)."""
        states = [trial.state.name for trial in self.study.get_trials(deepcopy=False)]
        return {state: states.count(state) for state in sorted(set(states))}


def tune(
    recipe: str | recipes.Recipe,
    space: str | os.PathLike[str] | dict[str, Any],
    *,
    trials: int | None = None,
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    pruner: str | optuna.pruners.BasePruner = "median",
    storage: str | None = None,
    study_name: str | None = None,
    workers: int = 1,
    out: str | os.PathLike[str] | None = None,
    seed: int | None = None,
    metric: str | None = None,
    direction: str | None = None,
    config: Any = None,
    heartbeat: int = 10,
) -> TuneResult:
    """Search ``space`` (a YAML file or mapping: config key -> distribution) for ``recipe``.

    Runs trials until the study holds ``trials`` complete or pruned ones (with several workers,
    other workers' running trials count too); a grid search runs every grid point once when
    ``trials`` is None. ``sampler``: ``"tpe"``, ``"random"``, ``"grid"`` or an Optuna sampler;
    ``pruner``: ``"median"``, ``"hyperband"``, ``"none"`` or an Optuna pruner (objects only with
    one worker). ``storage``: an SQLAlchemy URL (default: the tune folder's SQLite file; a
    password in it is not written to the folder); ``study_name`` defaults to the recipe's name.
    ``seed`` seeds the sampler. ``metric`` (default: what the recipe picks its best checkpoint
    by, e.g. ``val_accuracy``) is read after every epoch; ``direction`` defaults to
    ``"minimize"`` for losses and errors, else ``"maximize"``. ``config`` is the config every
    trial starts from (default: the recipe's). Every setting is checked before any trial runs.
    """
    recipe = recipes.get(recipe) if isinstance(recipe, str) else recipe
    base = recipe.config() if config is None else config
    try:
        recipe.check(base)
    except ConfigError as error:
        raise ConfigError(f"{recipe.name}: {error}") from None
    search = read_space(space, recipe, base)
    workers = checks.positive_int("workers", workers, fix="--workers 2")
    heartbeat = checks.positive_int("heartbeat", heartbeat, fix="heartbeat=10 (seconds)")
    if seed is not None:
        checks.non_negative_int("seed", seed, fix="--seed 0")
    if direction is not None:
        checks.one_of("direction", direction, DIRECTIONS, fix="--direction maximize")
    sampler_name = _kind("sampler", sampler, SAMPLERS, workers)
    pruner_name = _kind("pruner", pruner, PRUNERS, workers)
    trials = _trial_count(trials, sampler_name, search)
    folder, prior = tune_folder(out, recipe.name)
    if prior is not None:  # continuing the search in that folder: its study, its storage
        study_name = same_study(study_name, prior.study, folder)
        storage = same_storage(storage, prior.storage, folder)
    study_name = study_name or recipe.name

    # A database that cannot be opened, or a study made with other settings, fails here,
    # before the tune folder is written.
    url = storage or default_url(folder)
    opened = open_storage(url, heartbeat) if storage or (folder / STUDY_FILE).exists() else None
    existing = None if opened is None else stored_study(opened, study_name)
    before = {} if existing is None else existing.user_attrs.get(RECORD_ATTR) or {}
    if before:
        metric = metric or before["metric"]
    else:  # a new search: the recipe is built once, to check that it can be tuned
        monitor = _validation_metric(recipe, base)
        metric = metric or monitor
    direction = direction or before.get("direction") or _direction(metric)
    spec = TuneSpec(
        recipe.name,
        study_name,
        trials,
        metric,
        direction,
        search.as_json(),
        sampler_name,
        pruner_name,
        None if storage is None else shown_url(storage),  # no password in the folder
        seed,
        heartbeat,
    )
    if existing is not None:
        check_record(existing, record(spec, base), url)

    write_settings(folder, spec, base)
    opened = opened or open_storage(url, heartbeat)
    study = open_study(
        spec,
        opened,
        search,
        sampler=None if isinstance(sampler, str) else sampler,
        pruner=None if isinstance(pruner, str) else pruner,
    )
    started = start_workers(folder, workers, url) if workers > 1 else []
    try:
        optimize(study, Objective(search, folder, metric), trials)
    except BaseException:
        stop_workers(started)
        raise
    wait_for_workers(started)
    report = render_tune_report(folder, study, spec)
    return TuneResult(folder, study, metric, direction, report)


def _kind(what: str, value: Any, names: tuple[str, ...], workers: int) -> str:
    if isinstance(value, str):
        return checks.one_of(what, value, names, fix=f"--{what} {' | '.join(names)}")
    if workers > 1:
        raise ConfigError(
            f"workers={workers} start new processes, which build the {what} from its name; "
            f"received an object ({type(value).__name__}). Fix: pass {what} as one of "
            f"{', '.join(names)}, or use workers=1."
        )
    return type(value).__name__


def _trial_count(trials: int | None, sampler: str, search: SearchSpace) -> int:
    if sampler != "grid":
        if trials is None:
            raise ConfigError(
                f"a {sampler} search needs a number of trials, received none. Fix: --trials 20."
            )
        return checks.positive_int("trials", trials, fix="--trials 20")
    points = 1
    for values in search.grid().values():
        points *= len(values)
    if trials is None:
        return points
    trials = checks.positive_int("trials", trials, fix=f"--trials {points}")
    if trials > points:
        raise ConfigError(
            f"--trials {trials} is more than the grid's {points} points, and a grid search "
            f"runs each point once. Fix: --trials {points} (or leave --trials out)."
        )
    return trials


def _validation_metric(recipe: recipes.Recipe, base: Any) -> str:
    """What the recipe picks its best checkpoint by (e.g. ``val_accuracy``), after checking
    that it trains on the engine with a validation split. Builds the experiment once."""
    experiment = recipe.build(base)
    if not isinstance(experiment, Experiment):
        raise ConfigError(
            f"{recipe.name} trains an agent in an environment, scored by episodes rather than "
            f"epochs, which ember tune cannot report and prune. Fix: tune a recipe that trains "
            f"a network on data (see `ember list`)."
        )
    if experiment.data.val is None:
        raise ConfigError(
            f"{recipe.name} with this config holds out no validation split, and a search "
            f"scored on its training or test data would be fooled. Fix: keep a validation "
            f"split, e.g. --set validation_size=0.1."
        )
    return experiment.monitor


def _direction(metric: str) -> str:
    return "minimize" if any(word in metric for word in MINIMISED) else "maximize"


__all__ = ["TuneResult", "tune"]
