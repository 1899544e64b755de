"""EarlyStopping: stop training when a monitored value has stopped improving."""

from __future__ import annotations

import math

import torch

from ember import checks
from ember.callbacks.monitoring import monitored_value, resolve_mode
from ember.train.callback import Callback, Logs


class EarlyStopping(Callback):
    """Stop training when a monitored value has stopped improving.

    Args:
        monitor: the log to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        min_delta: a change smaller than this is not an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        baseline: training stops if the value has not beaten this after ``patience`` epochs.
        restore_best_weights: keep an in-memory copy of the best epoch's weights and load them
            when training ends.
        start_from_epoch: epochs to wait (warm-up) before watching for improvement.

    After ``fit``: ``stopped_epoch`` (0-based, 0 when training did not stop early), ``best`` (the
    best monitored value) and ``best_epoch`` (0-based).

    Example:
        >>> stop = EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
        >>> stop.mode
        'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        self.monitor = monitor
        self.mode = resolve_mode(mode, monitor)
        # Keras: the sign of min_delta is ignored; an improvement must beat best by |min_delta|.
        self.min_delta = abs(checks.number("min_delta", min_delta))
        self.patience = checks.non_negative_int("patience", patience)
        self.verbose = verbose
        self.baseline = None if baseline is None else checks.number("baseline", baseline)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = checks.non_negative_int("start_from_epoch", start_from_epoch)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def _is_improvement(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {name: t.detach().clone() for name, t in self.model.state_dict().items()}

    def on_fit_start(self, logs: Logs | None = None) -> None:
        self._reset()  # instances can be reused across fits, as in Keras

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = monitored_value(logs, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self._snapshot(), epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            # Patience restarts only once the value also beats the baseline.
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_fit_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)
