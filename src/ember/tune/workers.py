"""Workers: processes that each load the same study from its storage and run trials until the
study holds the asked number of trials (Optuna's ``MaxTrialsCallback``).

The process that calls :func:`ember.tune` is worker 0; ``workers=K`` starts K - 1 more with
``python -m ember.tune FOLDER INDEX``, each logging to ``FOLDER/workers/worker-INDEX.log``.
Complete, pruned and running trials count, so K workers end together with the number asked.
A trial left running by a killed process counts until its heartbeat is older than the grace
period (twice the heartbeat interval); then the next worker to start fails it, and Optuna's
retry callback queues it again with the same parameters.

Example (what a worker process runs, given a tune folder written by :func:`ember.tune`):
    >>> run_worker(Path("runs/tune-fashion-mlp"), 1)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import optuna
from optuna.study import MaxTrialsCallback

from ember import recipes
from ember.errors import RunError
from ember.tune.folder import base_config
from ember.tune.objective import Objective
from ember.tune.search import (
    FINISHED,
    TuneSpec,
    open_study,
)
from ember.tune.space import SearchSpace
from ember.tune.storage import open_storage

LOGS_FOLDER = "workers"
STORAGE_VARIABLE = "EMBER_TUNE_STORAGE"  # the storage URL, for the worker processes
# A worker stops when finished trials plus those other workers are running reach the count, so
# that K workers end together with the count asked (a worker only counts when a trial ends).
COUNTED = (*FINISHED, optuna.trial.TrialState.RUNNING)


def optimize(study: optuna.Study, objective: Objective, trials: int) -> None:
    """Run trials of ``study`` until it holds ``trials`` finished or running ones."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # A trial left running by a killed process is failed (and queued again) here, not only
        # when the next trial starts, so that it no longer counts as running.
        optuna.storages.fail_stale_trials(study)
    if len(study.get_trials(deepcopy=False, states=COUNTED)) >= trials:
        return
    study.optimize(objective, callbacks=[MaxTrialsCallback(trials, states=COUNTED)])


def run_worker(folder: Path, index: int) -> None:
    """Worker ``index`` of the search in ``folder``: open its study and run trials."""
    spec = TuneSpec.read(folder)
    recipe = recipes.get(spec.recipe)
    space = SearchSpace(recipe, base_config(folder, recipe), spec.distributions(), "tune.json")
    url = os.environ.get(STORAGE_VARIABLE) or spec.storage_url(folder)
    storage = open_storage(url, spec.heartbeat)
    study = open_study(spec, storage, space, worker=index)
    optimize(study, Objective(space, folder, spec.metric), spec.trials)


def start_workers(folder: Path, count: int, storage: str) -> list[tuple[subprocess.Popen, Path]]:
    """Start workers 1 .. ``count`` - 1 for the search in ``folder`` (its study in ``storage``);
    return them with their logs."""
    logs = Path(folder) / LOGS_FOLDER
    logs.mkdir(exist_ok=True)
    # The URL travels in the environment: tune.json keeps it without its password.
    environment = {**os.environ, STORAGE_VARIABLE: storage}
    # The workers import the same ember as this process, installed or not.
    source = str(Path(__file__).resolve().parents[2])  # src/ember/tune/workers.py -> src
    environment["PYTHONPATH"] = os.pathsep.join(
        [source, *filter(None, [environment.get("PYTHONPATH")])]
    )
    started = []
    for index in range(1, count):
        log = logs / f"worker-{index}.log"
        with open(log, "w", encoding="utf-8") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "ember.tune", str(folder), str(index)],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        started.append((process, log))
    return started


def stop_workers(started: Sequence[tuple[subprocess.Popen, Path]]) -> None:
    """Stop workers at once (the caller failed); their running trials fail by heartbeat."""
    for process, _ in started:
        if process.poll() is None:
            process.terminate()
    for process, _ in started:
        process.wait()


def wait_for_workers(started: Sequence[tuple[subprocess.Popen, Path]]) -> None:
    """Wait for every worker; raise a RunError naming the first that failed and its log."""
    for process, _ in started:
        process.wait()
    for index, (process, log) in enumerate(started, start=1):
        if process.returncode != 0:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            last = lines[-1] if lines else "(no output)"
            raise RunError(
                f"tune worker {index} stopped with exit code {process.returncode}: {last}. "
                f"Fix: read {log}; running the same command again finishes the trials left."
            )
