"""Learning-rate callbacks: LearningRateScheduler and ReduceLROnPlateau."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import torch

from ember import checks
from ember.callbacks.monitoring import monitored_value, resolve_mode
from ember.errors import ConfigError
from ember.train.callback import Callback, Logs


# -- the trainer's optimizer --------------------------------------------------------------------
def _optimizer(trainer: Any, owner: str) -> torch.optim.Optimizer:
    """The trainer's single torch optimizer, which ``owner`` sets the learning rate of."""
    optimizer = getattr(trainer, "optimizer", None)
    if optimizer is None:
        raise ConfigError(
            f"{owner} needs the trainer's optimizer, but this task manages its own optimizers. "
            "Fix: schedule the learning rate inside the task."
        )
    if getattr(trainer, "scheduler", None) is not None:
        raise ConfigError(
            f"{owner} sets the learning rate, but the optimizer already has a schedule. "
            "Fix: use one of the two."
        )
    return optimizer


def current_learning_rate(optimizer: torch.optim.Optimizer) -> float:
    """The optimizer's base learning rate, as a float.

    A param group may carry an ``lr_scale`` (discriminative learning rates, see
    ``ember.transfer``) and then learns at ``base * lr_scale``. The base is read from the first
    group whose scale is 1 (the head; read as it is, so exactly), else from the first group
    divided by its scale. Without scales it is the first group's rate.

    Example:
        >>> head, body = torch.zeros(1), torch.zeros(1)
        >>> optimizer = torch.optim.SGD(
        ...     [{"params": [body], "lr": 0.001, "lr_scale": 0.01},
        ...      {"params": [head], "lr": 0.1, "lr_scale": 1.0}], lr=0.1)
        >>> current_learning_rate(optimizer)
        0.1
    """
    for group in optimizer.param_groups:
        if group.get("lr_scale", 1.0) == 1.0:
            return float(group["lr"])
    first = optimizer.param_groups[0]
    return float(first["lr"]) / first["lr_scale"]


def has_learning_rate_scales(optimizer: torch.optim.Optimizer) -> bool:
    """Whether some param group carries an ``lr_scale`` (discriminative learning rates)."""
    return any("lr_scale" in group for group in optimizer.param_groups)


def set_learning_rate(optimizer: torch.optim.Optimizer, base: float) -> None:
    """Set the base learning rate: each param group gets ``base * lr_scale`` (1 unless set),
    so groups with discriminative learning rates keep their ratios.

    Example:
        >>> head, body = torch.zeros(1), torch.zeros(1)
        >>> optimizer = torch.optim.SGD(
        ...     [{"params": [body], "lr": 0.001, "lr_scale": 0.01},
        ...      {"params": [head], "lr": 0.1, "lr_scale": 1.0}], lr=0.1)
        >>> set_learning_rate(optimizer, 0.5)
        >>> [group["lr"] for group in optimizer.param_groups]
        [0.005, 0.5]
    """
    for group in optimizer.param_groups:
        value = base * group.get("lr_scale", 1.0)  # times 1.0: the same float, bit for bit
        if isinstance(group["lr"], torch.Tensor):  # capturable / fused optimizers keep a tensor
            group["lr"].fill_(value)
        else:
            group["lr"] = value


# -- learning rate ------------------------------------------------------------------------------
class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    ``epoch`` counts from 0 and ``lr`` is the current rate (Keras' signature; a one-argument
    ``schedule(epoch)`` works too). The rate is the base rate of the trainer's optimizer: each
    parameter group learns at it times its ``lr_scale`` (1 unless set by
    ``ember.transfer.discriminative_learning_rates``), so the groups keep their ratios. The base
    rate is recorded in the epoch logs as ``learning_rate``.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> scheduler = LearningRateScheduler(schedule)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise ConfigError(
                f"expected a function schedule(epoch, lr) -> lr, received schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_fit_start(self, logs: Logs | None = None) -> None:
        _optimizer(self.trainer, "LearningRateScheduler")

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self.trainer.optimizer
        current = current_learning_rate(optimizer)
        value = self.schedule(epoch, current) if self._takes_lr else self.schedule(epoch)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ConfigError(
                f"the schedule must return a non-negative float, received {value!r} at epoch "
                f"{epoch}. Fix: return a number such as lr * 0.9."
            )
        set_learning_rate(optimizer, float(value))
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {value}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.trainer.optimizer)


def _accepts_two_arguments(function: Callable) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a signature: assume Keras' form
        return True
    try:
        signature.bind(0, 0.1)
    except TypeError:
        return False
    return True


def _non_negative_number(name: str, value: Any) -> float:
    # Not checks.non_negative_number: ReduceLROnPlateau says "expected min_lr >= 0" here.
    number = checks.number(name, value)
    if number < 0:
        raise ConfigError(f"expected {name} >= 0, received {name}={value!r}")
    return number


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Keras' semantics (the rate drops after ``patience`` epochs without an improvement larger
    than ``min_delta``, then waits ``cooldown`` epochs), run by
    :class:`torch.optim.lr_scheduler.ReduceLROnPlateau`, which is built when ``fit`` starts.
    The rate reduced is the base rate: parameter groups with an ``lr_scale`` (discriminative
    learning rates) keep their ratios, and ``min_lr`` bounds the base. The base rate used in
    each epoch is recorded in its logs as ``learning_rate``.

    Example:
        >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        factor = checks.number("factor", factor)
        if not 0 < factor < 1:
            raise ConfigError(
                f"expected 0 < factor < 1 (the rate is multiplied by it), received factor={factor}"
            )
        self.monitor = monitor
        self.mode = resolve_mode(mode, monitor)
        self.factor = factor
        self.patience = checks.non_negative_int("patience", patience)
        self.verbose = verbose
        self.min_delta = _non_negative_number("min_delta", min_delta)
        self.cooldown = checks.non_negative_int("cooldown", cooldown)
        self.min_lr = _non_negative_number("min_lr", min_lr)
        self.scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None

    def on_fit_start(self, logs: Logs | None = None) -> None:
        # torch drops the rate once more than `patience` bad epochs are counted, and counts from
        # the epoch after the cooldown; Keras drops at `patience` bad epochs and counts the last
        # cooldown epoch. Shifting both by one gives Keras' schedule exactly.
        optimizer = _optimizer(self.trainer, "ReduceLROnPlateau")
        min_lr: float | list[float] = self.min_lr
        if has_learning_rate_scales(optimizer):  # min_lr bounds the base rate
            min_lr = [self.min_lr * group.get("lr_scale", 1.0) for group in optimizer.param_groups]
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode=self.mode,
            factor=self.factor,
            patience=max(self.patience - 1, 0),
            threshold=self.min_delta,
            threshold_mode="abs",
            cooldown=max(self.cooldown - 1, 0),
            min_lr=min_lr,
        )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = monitored_value(logs, self.monitor, "ReduceLROnPlateau")
        optimizer = self.trainer.optimizer
        before = current_learning_rate(optimizer)
        if logs is not None:
            logs["learning_rate"] = before
        self.scheduler.step(value)
        if has_learning_rate_scales(optimizer):
            # torch reduces each group on its own (and skips a change under its eps), which
            # would drift the groups' ratios: every group follows the base group's new rate.
            set_learning_rate(optimizer, current_learning_rate(optimizer))
        after = current_learning_rate(optimizer)
        if after != before and self.verbose > 0:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {after}.")
