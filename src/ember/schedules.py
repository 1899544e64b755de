"""Learning-rate schedules: small specs that build torch's own ``lr_scheduler`` objects.

A schedule is passed as an optimizer's ``learning_rate``; its initial learning rate becomes the
optimizer's, and the trainer builds the torch scheduler once the optimizer exists and steps it
after every batch (``interval == "step"``) or every epoch (``interval == "epoch"``).

Example:
    >>> from ember import optimizers, schedules
    >>> schedule = schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
    >>> optimizer = optimizers.SGD(learning_rate=schedule)
    >>> optimizer.learning_rate, round(learning_rate_at(schedule, 100), 6)
    (0.1, 0.05)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim import lr_scheduler

from ember import checks
from ember.errors import ConfigError

Scheduler = lr_scheduler.LRScheduler


def _absolute_lambda(
    optimizer: torch.optim.Optimizer, initial_learning_rate: float, learning_rate: Any
) -> Scheduler:
    """A ``LambdaLR`` following ``learning_rate(step)``, a function giving absolute values.

    ``LambdaLR`` multiplies each group's starting lr by a factor, so the factor is
    ``learning_rate(step) / initial_learning_rate``: param groups keep their relative sizes. A
    schedule starting at 0 (a warm-up from zero) has no such ratio, so each group starts from its
    ``lr_scale`` (1 unless set: discriminative learning rates, see ``ember.transfer``).
    """
    if initial_learning_rate > 0:
        return lr_scheduler.LambdaLR(
            optimizer, lambda step: learning_rate(step) / initial_learning_rate
        )
    for group in optimizer.param_groups:
        group["lr"] = float(group.get("lr_scale", 1.0))
        group.pop("initial_lr", None)
    return lr_scheduler.LambdaLR(optimizer, learning_rate)


class StepDecay:
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (``torch StepLR``).

    ``initial_learning_rate`` is optional: without it the optimizer's own default is the start.

    Example:
        >>> [round(learning_rate_at(StepDecay(2, 0.5, initial_learning_rate=1.0), e), 3)
        ...  for e in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    interval = "epoch"

    def __init__(
        self, step_size: int, gamma: float = 0.1, *, initial_learning_rate: float | None = None
    ) -> None:
        checks.positive_int("step_size", step_size)
        checks.positive_number("gamma", gamma)
        checks.positive_number("initial_learning_rate", initial_learning_rate, allow_none=True)
        self.step_size, self.gamma = step_size, gamma
        self.initial_learning_rate = initial_learning_rate

    def build(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
    ) -> Scheduler:
        """The torch scheduler for ``optimizer`` (stepped once per epoch)."""
        return lr_scheduler.StepLR(optimizer, step_size=self.step_size, gamma=self.gamma)

    def __repr__(self) -> str:
        return f"StepDecay(step_size={self.step_size}, gamma={self.gamma})"


class ExponentialDecay:
    """Keras' ``ExponentialDecay``: ``lr = initial * decay_rate ** (step / decay_steps)`` per step.

    With ``staircase=True`` the exponent is ``step // decay_steps`` (torch ``StepLR``), otherwise
    torch ``ExponentialLR`` with ``gamma = decay_rate ** (1 / decay_steps)``.

    Example:
        >>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
        >>> [round(learning_rate_at(schedule, s), 4) for s in (0, 9, 10, 20)]
        [0.1, 0.1, 0.05, 0.025]
    """

    interval = "step"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        checks.positive_number("initial_learning_rate", initial_learning_rate)
        checks.positive_int("decay_steps", decay_steps)
        checks.positive_number("decay_rate", decay_rate)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps, self.decay_rate, self.staircase = decay_steps, decay_rate, staircase

    def build(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
    ) -> Scheduler:
        """The torch scheduler for ``optimizer`` (stepped once per batch)."""
        if self.staircase:
            return lr_scheduler.StepLR(optimizer, step_size=self.decay_steps, gamma=self.decay_rate)
        gamma = self.decay_rate ** (1.0 / self.decay_steps)
        return lr_scheduler.ExponentialLR(optimizer, gamma=gamma)

    def __repr__(self) -> str:
        return (
            f"ExponentialDecay(initial_learning_rate={self.initial_learning_rate}, "
            f"decay_steps={self.decay_steps}, decay_rate={self.decay_rate}, "
            f"staircase={self.staircase})"
        )


class CosineDecay:
    """Keras 3's ``CosineDecay``, with its optional linear warm-up, per step.

    Without ``warmup_target`` the lr falls from ``initial_learning_rate`` along a half cosine to
    ``alpha * initial_learning_rate`` over ``decay_steps`` and stays there. With it, the lr first
    rises linearly from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then
    decays from ``warmup_target``. ``decay_steps=None`` decays over the rest of the run.

    Built on ``LambdaLR`` rather than ``LinearLR`` + ``CosineAnnealingLR``: those cannot warm up
    from 0 (``LinearLR``'s start factor must be > 0) and ``CosineAnnealingLR`` rises again after
    ``T_max`` instead of holding the floor as Keras does.

    Example:
        >>> schedule = CosineDecay(0.0, decay_steps=10, warmup_steps=5, warmup_target=1.0)
        >>> [round(learning_rate_at(schedule, s), 3) for s in (0, 1, 5, 10, 15, 20)]
        [0.0, 0.2, 1.0, 0.5, 0.0, 0.0]
    """

    interval = "step"

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | None = None,
        alpha: float = 0.0,
        warmup_steps: int = 0,
        warmup_target: float | None = None,
    ) -> None:
        if warmup_target is None or warmup_steps == 0:
            checks.positive_number("initial_learning_rate", initial_learning_rate)
        else:  # a warm-up may start from 0
            checks.non_negative_number("initial_learning_rate", initial_learning_rate)
        if decay_steps is not None:  # (allow_none=True would say "or None" in the message)
            checks.positive_int("decay_steps", decay_steps)
        checks.number_in("alpha", alpha, 0, 1, closed="[]")
        checks.non_negative_int("warmup_steps", warmup_steps)
        checks.positive_number("warmup_target", warmup_target, allow_none=True)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps, self.alpha = decay_steps, alpha
        self.warmup_steps, self.warmup_target = warmup_steps, warmup_target

    def learning_rate(self, step: int, decay_steps: int) -> float:
        """Keras' formula: the lr of update ``step`` (from 0), decaying over ``decay_steps``."""
        if self.warmup_target is None:  # Keras ignores warmup_steps without a target
            step = min(step, decay_steps)
            return self._decay(step, decay_steps, self.initial_learning_rate)
        step = min(step, decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + fraction * (
                self.warmup_target - self.initial_learning_rate
            )
        return self._decay(step - self.warmup_steps, decay_steps, self.warmup_target)

    def _decay(self, step: int, decay_steps: int, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def build(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
    ) -> Scheduler:
        """The torch scheduler for ``optimizer`` (stepped once per batch)."""
        decay_steps = self.decay_steps
        if decay_steps is None:
            warmup = self.warmup_steps if self.warmup_target is not None else 0
            decay_steps = max(steps_per_epoch * epochs - warmup, 1)
        return _absolute_lambda(
            optimizer,
            self.initial_learning_rate,
            lambda step: self.learning_rate(step, decay_steps),
        )

    def __repr__(self) -> str:
        return (
            f"CosineDecay(initial_learning_rate={self.initial_learning_rate}, "
            f"decay_steps={self.decay_steps}, alpha={self.alpha}, "
            f"warmup_steps={self.warmup_steps}, warmup_target={self.warmup_target})"
        )


class OneCycle:
    """Leslie Smith's one-cycle policy per step, built on torch's ``OneCycleLR``.

    The lr rises from ``max_learning_rate / div_factor`` to ``max_learning_rate`` over the first
    ``pct_start`` of the run (``steps_per_epoch * epochs`` steps), then anneals to
    ``max_learning_rate / (div_factor * final_div_factor)``. ``cycle_momentum=True`` also cycles
    momentum (or Adam's ``beta_1``) between 0.95 and 0.85, as fastai does; it is off by default so
    that an optimizer without momentum is not given one. A param group with an ``lr_scale``
    follows the same cycle scaled by it.

    Example:
        >>> lrs = learning_rate_curve(OneCycle(1.0), total_steps=100)
        >>> round(max(lrs), 6), round(lrs[0], 6)
        (1.0, 0.04)
    """

    interval = "step"

    def __init__(
        self,
        max_learning_rate: float,
        pct_start: float = 0.3,
        *,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        cycle_momentum: bool = False,
    ) -> None:
        checks.positive_number("max_learning_rate", max_learning_rate)
        checks.number_in("pct_start", pct_start, 0, 1, closed="()")
        if anneal_strategy not in ("cos", "linear"):
            raise ConfigError(
                f"expected anneal_strategy='cos' or 'linear', received "
                f"anneal_strategy={anneal_strategy!r}"
            )
        checks.positive_number("div_factor", div_factor)
        checks.positive_number("final_div_factor", final_div_factor)
        self.max_learning_rate, self.pct_start = max_learning_rate, pct_start
        self.anneal_strategy, self.div_factor = anneal_strategy, div_factor
        self.final_div_factor, self.three_phase = final_div_factor, three_phase
        self.cycle_momentum = cycle_momentum

    @property
    def initial_learning_rate(self) -> float:
        """Where the cycle starts: ``max_learning_rate / div_factor``."""
        return self.max_learning_rate / self.div_factor

    def build(
        self, optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int
    ) -> Scheduler:
        """The torch scheduler for ``optimizer`` over ``steps_per_epoch * epochs`` batches."""
        total_steps = steps_per_epoch * epochs
        if total_steps < 2:
            raise ConfigError(
                f"OneCycle needs the run's length, received steps_per_epoch={steps_per_epoch} and "
                f"epochs={epochs}. Fix: train for more than one step, and pass steps_per_epoch= "
                f"when the data has no length (e.g. a generator)."
            )
        return lr_scheduler.OneCycleLR(
            optimizer,
            # Each param group peaks at its own lr_scale times the maximum: groups keep their
            # ratio (discriminative learning rates, see ember.transfer).
            max_lr=[
                self.max_learning_rate * group.get("lr_scale", 1.0)
                for group in optimizer.param_groups
            ],
            total_steps=total_steps,
            # torch divides by the warm-up's end step (pct_start * total - 1): a run so short
            # that it would be 0 (a ZeroDivisionError) warms up over 1.5 steps instead.
            pct_start=max(self.pct_start, 1.5 / total_steps),
            anneal_strategy=self.anneal_strategy,
            cycle_momentum=self.cycle_momentum,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
            three_phase=self.three_phase,
        )

    def __repr__(self) -> str:
        return f"OneCycle(max_learning_rate={self.max_learning_rate}, pct_start={self.pct_start})"


def learning_rate_curve(schedule: Any, total_steps: int) -> list[float]:
    """The lr used at each of ``total_steps`` updates of a run that long (a throwaway optimizer).

    For an ``"epoch"`` schedule a step is an epoch. Handy for plotting and tests.

    Example:
        >>> learning_rate_curve(StepDecay(1, 0.5, initial_learning_rate=1.0), 3)
        [1.0, 0.5, 0.25]
    """
    checks.positive_int("total_steps", total_steps)
    initial = getattr(schedule, "initial_learning_rate", None)
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=1.0 if initial is None else initial)
    scheduler = schedule.build(optimizer, total_steps, 1)
    learning_rates = []
    for step in range(total_steps):
        learning_rates.append(float(optimizer.param_groups[0]["lr"]))
        if step + 1 < total_steps:  # OneCycleLR refuses to step past its last step
            optimizer.step()  # no gradient: changes nothing, but keeps torch's order check happy
            scheduler.step()
    return learning_rates


def learning_rate_at(schedule: Any, step: int, *, total_steps: int | None = None) -> float:
    """The lr of update ``step`` (from 0) in a run of ``total_steps`` (default ``step + 1``).

    Example:
        >>> learning_rate_at(ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5), 3)
        0.125
    """
    checks.non_negative_int("step", step)
    total_steps = step + 1 if total_steps is None else total_steps
    if step >= total_steps:
        raise ConfigError(
            f"step={step} is past the end of a run of total_steps={total_steps}. "
            f"Fix: pass total_steps > step."
        )
    return learning_rate_curve(schedule, total_steps)[step]
