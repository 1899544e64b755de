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
    ``self.trainer.stop_training = True`` to stop after the current epoch. Keras' hook names
    (``on_train_begin``, ``on_test_batch_end`` ...) work too: see :mod:`ember.train.hooks`.

    ``on_batch_end`` receives the step's outputs: tensors (e.g. the batch loss), and ``float()``
    of one synchronises with the device, so only do it when you need it. Keras'
    ``on_train_batch_end``/``on_test_batch_end`` receive Keras' logs instead, the means of the
    losses and metrics over the epoch so far (a :class:`~ember.train.batch_logs.BatchLogs`,
    computed when first read).

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
        """After the last epoch (also after an early stop), with its logs."""

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        """Before each epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After each epoch, with its training and validation logs (floats)."""

    def on_batch_start(self, batch: int, logs: Logs | None = None) -> None:
        """Before each training batch."""

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each training step; ``logs`` holds the step's loss tensors (see the class)."""

    def on_evaluate_start(self, logs: Logs | None = None) -> None:
        """Before ``evaluate``, and before each validation pass of ``fit`` (as Keras'
        ``on_test_begin``)."""

    def on_evaluate_end(self, logs: Logs | None = None) -> None:
        """After ``evaluate`` or a validation pass, with its logs (names without ``val_``)."""

    def on_evaluate_batch_start(self, batch: int, logs: Logs | None = None) -> None:
        """Before each evaluation (or validation) batch."""

    def on_evaluate_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each evaluation (or validation) batch, with the step's outputs."""

    def on_predict_start(self, logs: Logs | None = None) -> None:
        """Before ``predict``."""

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """After ``predict``."""

    def on_predict_batch_start(self, batch: int, logs: Logs | None = None) -> None:
        """Before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After each prediction batch; ``logs["outputs"]`` holds the batch's outputs."""


HOOKS = (
    "on_fit_start",
    "on_fit_end",
    "on_epoch_start",
    "on_epoch_end",
    "on_batch_start",
    "on_batch_end",
    "on_evaluate_start",
    "on_evaluate_end",
    "on_evaluate_batch_start",
    "on_evaluate_batch_end",
    "on_predict_start",
    "on_predict_end",
    "on_predict_batch_start",
    "on_predict_batch_end",
)


def overrides(callback: Callback, hook: str) -> bool:
    """True if ``callback`` does something in ``hook`` (so the engine can skip no-op calls)."""
    method = getattr(type(callback), hook, None)
    if method is None:
        return hook in vars(callback)  # LambdaCallback sets hooks on the instance
    return method is not getattr(Callback, hook, None) or hook in vars(callback)
