"""TensorBoard: write the logs as TensorBoard scalars, laid out as Keras does."""

from __future__ import annotations

import os
from typing import Any

from ember import checks
from ember.callbacks.learning_rate import current_learning_rate
from ember.callbacks.monitoring import is_scalar, to_float
from ember.train.callback import Callback, Logs


class TensorBoard(Callback):
    """Write the logs as TensorBoard scalars, laid out as Keras does.

    Training values go to ``log_dir/train`` and validation values to ``log_dir/validation``,
    both tagged ``epoch_<name>`` (``val_loss`` is ``epoch_loss`` in ``validation``) at step
    ``epoch``, plus ``epoch_learning_rate``. With ``update_freq="batch"`` or an integer ``N``,
    the batch losses are also written every ``N`` steps as ``batch_<name>`` (reading them is a
    device sync each time). View with ``tensorboard --logdir logs``.

    Example:
        >>> board = TensorBoard(log_dir="logs/run-1")
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", update_freq: str | int = "epoch"):
        self.log_dir = os.fspath(log_dir)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            update_freq = checks.positive_int("update_freq", update_freq)
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            from torch.utils.tensorboard import SummaryWriter

            self._writers[name] = SummaryWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_fit_start(self, logs: Logs | None = None) -> None:
        self._writer("train")

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        step = self.trainer.global_step
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            if is_scalar(value) or isinstance(value, (int, float)):
                writer.add_scalar(f"batch_{name}", to_float(value), step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        train = {k: v for k, v in (logs or {}).items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        optimizer = getattr(self.trainer, "optimizer", None)
        if "learning_rate" not in train and optimizer is not None:
            train["learning_rate"] = current_learning_rate(optimizer)
        for folder, values in (("train", train), ("validation", validation)):
            if not values:
                continue
            writer = self._writer(folder)
            for name, value in values.items():
                if isinstance(value, (int, float)) or is_scalar(value):
                    writer.add_scalar(f"epoch_{name}", to_float(value), epoch)
            writer.flush()

    def on_fit_end(self, logs: Logs | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
