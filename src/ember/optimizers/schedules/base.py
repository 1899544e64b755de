"""The base class of Keras' learning-rate schedules, and how the trainer follows one."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler


class LearningRateSchedule:
    """Base class: ``schedule(step)`` returns the learning rate of update ``step`` (from 0).

    A subclass writes ``__call__(step)`` (``step`` a number or 0-d tensor; it may use
    ``ember.ops``) and, to be saved, ``get_config()``. The value of the first update need not be
    positive (a warm-up from 0 works).

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return 0.1 * 0.5 ** (step // 100)
        >>> Halving().value(250)
        0.025
    """

    interval = "step"  # the trainer steps the schedule after every batch

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must define __call__(self, step) returning the learning "
            f"rate of update step."
        )

    def value(self, step: Any) -> float:
        """The learning rate of update ``step``, as a Python float."""
        return float(self(step))

    def build(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
    ) -> lr_scheduler.LRScheduler:
        """The torch scheduler setting each update's learning rate to :meth:`value` (times a
        param group's ``lr_scale``, 1 unless set: see ``ember.transfer``)."""
        # LambdaLR multiplies each group's starting lr by the function's value: starting every
        # group at its lr_scale makes that value the absolute learning rate, even 0.
        for group in optimizer.param_groups:
            group["lr"] = float(group.get("lr_scale", 1.0))
            group.pop("initial_lr", None)
        return lr_scheduler.LambdaLR(optimizer, self.value)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this schedule (``cls(**config)``)."""
        raise NotImplementedError(
            f"{type(self).__name__} must define get_config() to be serialized."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """The schedule ``get_config()`` describes."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            arguments = "..."
        return f"{type(self).__name__}({arguments})"


class KerasSchedule(LearningRateSchedule):
    """What the built-in schedules share: ``__call__`` returns a float32 0-d tensor, as Keras'
    do on its torch backend, computed by :meth:`value` in float64."""

    def __call__(self, step: Any) -> torch.Tensor:
        return torch.tensor(self.value(step), dtype=torch.float32)

    def value(self, step: Any) -> float:
        raise NotImplementedError
