"""The two callbacks that make a training run a *run*: its metrics log and its checkpoints."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ember.runs import metrics_log
from ember.runs.checkpoint import Checkpoint, save_checkpoint
from ember.saving import check_compatible
from ember.train.callback import Callback, Logs
from ember.train.distributed import is_main_process


class RunLog(Callback):
    """Appends one line per epoch to ``metrics.jsonl``: losses, metrics, learning rate, time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._start = 0.0
        self._learning_rate: float | None = None

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        self._start = time.perf_counter()
        optimizer = self.trainer.optimizer
        if optimizer is not None:
            self._learning_rate = float(optimizer.param_groups[0]["lr"])

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        record = {
            "kind": "epoch",
            "epoch": epoch + 1,
            "step": self.trainer.global_step,
            "time": round(time.perf_counter() - self._start, 4),
        }
        if self._learning_rate is not None:
            record["learning_rate"] = self._learning_rate
        record.update(logs or {})
        metrics_log.append(self.path, record)


class Checkpointer(Callback):
    """Saves ``last`` (and ``best``, by ``monitor``) after every epoch; restores one at fit start.

    What a resumed run needs to continue bit for bit: the weights, the engine's state
    (:meth:`ember.Trainer.state_dict`: optimizers, schedules, grad scaler, the task's own state,
    every random number generator, the step), the data-order generator and the best value so far.
    """

    def __init__(
        self,
        run_dir: Path,
        generator: torch.Generator,
        *,
        monitor: str = "val_accuracy",
        resume_from: Checkpoint | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.generator = generator
        self.monitor = monitor
        self.mode = "min" if "loss" in monitor else "max"
        self.best: float | None = None
        self.resume_from = resume_from
        self.stop_requested = False  # set on Ctrl-C: stop after this epoch's checkpoint

    def on_fit_start(self, logs: Logs | None = None) -> None:
        if self.resume_from is not None:
            self._restore(self.resume_from)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        improved = value is not None and (
            self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        )
        if improved:
            self.best = float(value)
        if is_main_process():  # on several processes, only the main one writes
            weights, state = self.model.state_dict(), self._state(epoch + 1)
            save_checkpoint(self.run_dir, epoch + 1, weights, state, best=improved)
        if self.stop_requested:
            self.trainer.stop_training = True

    # -- state ----------------------------------------------------------------------------------
    def _state(self, epoch: int) -> dict[str, Any]:
        # The engine's own state (optimizers, schedules, scaler, task, RNGs, step) and the run's.
        return {
            **self.trainer.state_dict(),
            "epoch": epoch,
            "monitor": self.monitor,
            "best": self.best,
            "data_order": self.generator.get_state(),
        }

    def _restore(self, checkpoint: Checkpoint) -> None:
        state = checkpoint.state
        check_compatible(self.model.state_dict(), checkpoint.weights, checkpoint.path)
        self.model.load_state_dict(checkpoint.weights)
        self.trainer.load_state_dict(state)
        self.generator.set_state(state["data_order"])
        self.best = state["best"]
