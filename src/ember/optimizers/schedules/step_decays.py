"""Keras' schedules that decay with the step count: exponential, inverse-time, polynomial and
piecewise-constant."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ember import checks
from ember import schedules as ember_schedules
from ember.errors import ConfigError
from ember.optimizers.schedules.base import KerasSchedule


class ExponentialDecay(KerasSchedule, ember_schedules.ExponentialDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase`` the
    exponent is rounded down (the rate drops every ``decay_steps`` updates).

    Example:
        >>> schedule = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
        >>> [schedule.value(step) for step in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase)
        self.name = name

    def value(self, step: Any) -> float:
        exponent = float(step) / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate**exponent

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(KerasSchedule):
    """``values[0]`` up to step ``boundaries[0]`` (included), ``values[1]`` up to
    ``boundaries[1]``, ..., ``values[-1]`` after the last boundary.

    Example:
        >>> schedule = PiecewiseConstantDecay(boundaries=[2, 4], values=[1.0, 0.5, 0.1])
        >>> [schedule.value(step) for step in range(6)]
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(
        self,
        boundaries: Sequence[float],
        values: Sequence[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ConfigError(
                f"PiecewiseConstantDecay needs one more value than boundaries, received "
                f"boundaries={list(boundaries)!r} ({len(boundaries)}) and values="
                f"{list(values)!r} ({len(values)}). Fix: give the value before the first "
                f"boundary, one between each pair, and the value after the last."
            )
        for number, value in enumerate(values):
            checks.non_negative_number(f"values[{number}]", value)
        if list(boundaries) != sorted(boundaries):
            raise ConfigError(
                f"expected increasing boundaries, received boundaries={list(boundaries)!r}. "
                f"Fix: sort them (with their values)."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def value(self, step: Any) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(KerasSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with ``staircase``
    the fraction ``step / decay_steps`` is rounded down.

    Example:
        >>> schedule = InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
        >>> [schedule.value(step) for step in range(3)]
        [1.0, 0.6666666666666666, 0.5]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self.initial_learning_rate = checks.positive_number(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = checks.positive_number("decay_steps", decay_steps)
        self.decay_rate = checks.non_negative_number("decay_rate", decay_rate)
        self.staircase, self.name = bool(staircase), name

    def value(self, step: Any) -> float:
        fraction = float(step) / self.decay_steps
        if self.staircase:
            fraction = math.floor(fraction)
        return self.initial_learning_rate / (1.0 + self.decay_rate * fraction)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PolynomialDecay(KerasSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` along ``(1 - step /
    decay_steps) ** power``, then flat; with ``cycle`` it starts again, each time over the next
    multiple of ``decay_steps``.

    Example:
        >>> schedule = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
        >>> [schedule.value(step) for step in range(6)]
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = checks.positive_number(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = checks.positive_number("decay_steps", decay_steps)
        self.end_learning_rate = checks.non_negative_number("end_learning_rate", end_learning_rate)
        self.power = checks.positive_number("power", power)
        self.cycle, self.name = bool(cycle), name

    def value(self, step: Any) -> float:
        step, decay_steps = float(step), self.decay_steps
        if self.cycle:  # the first multiple of decay_steps at or past step (1 at step 0)
            decay_steps *= max(math.ceil(step / decay_steps), 1)
        else:
            step = min(step, decay_steps)
        remaining = (1.0 - step / decay_steps) ** self.power
        return (self.initial_learning_rate - self.end_learning_rate) * remaining + (
            self.end_learning_rate
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }
