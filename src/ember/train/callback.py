"""The callback base class: plain no-op hooks, Keras signatures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from ember.train.trainer import Trainer

Logs = dict[str, Any]


class Callback:
    """Base class for callbacks. Override the hooks you need; each default does nothing.

    ``self.trainer`` is set before training starts (``self.model`` is its module). Set
    ``self.trainer.stop_training = True`` to stop after the current epoch.

    Batch hooks receive logs holding *tensors* (e.g. the batch loss); reading one with ``float()``
    synchronises with the device, so only do it when you need it.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(epoch, round(logs["loss"], 3))
    """

    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        """Attach to the trainer about to run (called by the trainer)."""
        self.trainer = trainer

    @property
    def model(self) -> nn.Module:
        """The module being trained."""
        return self.trainer.model

    def on_fit_start(self, logs: Logs | None = None) -> None:
        """Before the first epoch."""

    def on_fit_end(self, logs: Logs | None = None) -> None:
        """After the last epoch (also after an early stop)."""

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        """Before each epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After each epoch, with its training and validation logs (floats)."""

    def on_batch_start(self, batch: int, logs: Logs | None = None) -> None:
        """Before each training batch."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each training step; ``logs`` holds the step's loss tensors."""

    def on_evaluate_start(self, logs: Logs | None = None) -> None:
        """Before ``evaluate`` (not the validation inside ``fit``)."""

    def on_evaluate_end(self, logs: Logs | None = None) -> None:
        """After ``evaluate``, with its logs."""


HOOKS = (
    "on_fit_start",
    "on_fit_end",
    "on_epoch_start",
    "on_epoch_end",
    "on_batch_start",
    "on_batch_end",
    "on_evaluate_start",
    "on_evaluate_end",
)


def overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` does something in ``hook`` (so the engine can skip no-op calls)."""
    method = getattr(type(callback), hook, None)
    if method is None:
        return hook in vars(callback)  # LambdaCallback sets hooks on the instance
    return method is not getattr(Callback, hook, None) or hook in vars(callback)
