"""One trial = one ordinary ember run: its own folder under the tune folder, its metrics log,
checkpoints and report, with one more callback that reports each epoch's validation metric to
Optuna and stops the run cleanly when the pruner says so.

A pruned run stops at an epoch boundary, like a run stopped with Ctrl-C: its folder keeps that
epoch's log line, checkpoint and a report, and the trial is marked pruned.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import optuna

from ember.errors import ConfigError
from ember.runs import training
from ember.train.callback import Callback, Logs
from ember.tune.space import SearchSpace

RUN_DIR_ATTR = "run_dir"  # the trial's user attribute: its run folder
HOST_ATTR = "host"  # ... and the machine it ran on (a shared database serves several)


class ReportToTrial(Callback):
    """After each epoch, report ``logs[metric]`` to ``trial`` (step = the epoch, from 1) and stop
    the run when ``trial.should_prune()``; ``pruned_at`` is then the last epoch run.

    Example:
        >>> import optuna
        >>> study = optuna.create_study(direction="maximize")
        >>> callback = ReportToTrial(study.ask(), "val_accuracy")
        >>> callback.metric, callback.pruned_at
        ('val_accuracy', None)
    """

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        self.trial = trial
        self.metric = metric
        self.value: float | None = None  # the last epoch's
        self.pruned_at: int | None = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.metric not in logs:
            numeric = sorted(k for k, v in logs.items() if isinstance(v, (int, float)))
            raise ConfigError(
                f"the tune metric {self.metric!r} is not among what this recipe logs each "
                f"epoch: {', '.join(numeric)}. Fix: pass one of them as --metric (metric=)."
            )
        self.value = float(logs[self.metric])
        self.trial.report(self.value, epoch + 1)
        if self.trial.should_prune():
            self.pruned_at = epoch + 1
            self.trainer.stop_training = True


@dataclass
class Objective:
    """Optuna's objective: run the recipe with the trial's parameters in
    ``folder/trial-NNNN/`` and return ``metric`` at its last epoch."""

    space: SearchSpace
    folder: Path
    metric: str

    def __call__(self, trial: optuna.Trial) -> float:
        params = self.space.suggest(trial)
        config = self.space.config(params)
        run_dir = Path(self.folder) / f"trial-{trial.number:04d}"
        trial.set_user_attr(RUN_DIR_ATTR, str(run_dir.resolve()))
        trial.set_user_attr(HOST_ATTR, socket.gethostname())
        reporter = ReportToTrial(trial, self.metric)
        result = training.train(
            self.space.recipe, config, out=run_dir, verbose=0, callbacks=[reporter]
        )
        if reporter.pruned_at is not None:
            raise optuna.TrialPruned(
                f"{self.metric} {reporter.value:.4f} at epoch {reporter.pruned_at} of "
                f"{config.epochs}"
            )
        if result.interrupted:  # Ctrl-C: the trial fails, the search stops
            raise KeyboardInterrupt
        return reporter.value  # NaN (a diverged run): Optuna marks the trial failed


__all__ = ["Objective", "ReportToTrial"]
