"""The two callbacks that make a training run a *run*: its metrics log and its checkpoints."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember.runs import metrics_log
from ember.runs.checkpoint import Checkpoint, save_checkpoint
from ember.saving import check_compatible
from ember.train.callback import Callback, Logs
from ember.train.optimizer_state import load_optimizer_state


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

    What a resumed run needs to continue bit for bit: the weights, the optimizer, schedule and
    grad-scaler states, every random number generator (torch, CUDA, NumPy, Python's) and the
    data-order generator, the global step, and the best value so far.
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
        save_checkpoint(
            self.run_dir, epoch + 1, self.model.state_dict(), self._state(epoch + 1), best=improved
        )
        if self.stop_requested:
            self.trainer.stop_training = True

    # -- state ----------------------------------------------------------------------------------
    def _state(self, epoch: int) -> dict[str, Any]:
        trainer = self.trainer
        numpy_state = np.random.get_state()
        return {
            "epoch": epoch,
            "global_step": trainer.global_step,
            "monitor": self.monitor,
            "best": self.best,
            "optimizer": None if trainer.optimizer is None else trainer.optimizer.state_dict(),
            "scheduler": None if trainer.scheduler is None else trainer.scheduler.state_dict(),
            "scaler": None if trainer._scaler is None else trainer._scaler.state_dict(),
            # Tasks that own optimizers (a GAN's two) keep their state themselves.
            "task": _task_state(trainer.task),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "numpy": (
                    numpy_state[0],
                    torch.from_numpy(numpy_state[1].astype(np.int64)),
                    *numpy_state[2:],
                ),
                "python": random.getstate(),
            },
            "data_order": self.generator.get_state(),
        }

    def _restore(self, checkpoint: Checkpoint) -> None:
        trainer, state = self.trainer, checkpoint.state
        check_compatible(self.model.state_dict(), checkpoint.weights, checkpoint.path)
        self.model.load_state_dict(checkpoint.weights)
        if state["optimizer"] is not None and trainer.optimizer is not None:
            load_optimizer_state(trainer.optimizer, state["optimizer"])
        if state["scheduler"] is not None and trainer.scheduler is not None:
            trainer.scheduler.load_state_dict(state["scheduler"])
        if state["scaler"] is not None and trainer._scaler is not None:
            trainer._scaler.load_state_dict(state["scaler"])
        if state.get("task") is not None:
            trainer.task.load_state_dict(state["task"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        kind, keys, *rest = rng["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
        version, internal, gauss = rng["python"]
        random.setstate((version, tuple(internal), gauss))
        self.generator.set_state(state["data_order"])
        trainer.global_step = int(state["global_step"])
        self.best = state["best"]


def _task_state(task: Any) -> Any:
    """The task's own training state, for tasks that define ``state_dict`` (else None)."""
    state_dict = getattr(task, "state_dict", None)
    return None if state_dict is None else state_dict()
