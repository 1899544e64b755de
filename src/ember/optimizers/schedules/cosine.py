"""Keras' cosine schedules: ``CosineDecay`` (with its warm-up) and ``CosineDecayRestarts``."""

from __future__ import annotations

import math
from typing import Any

from ember import checks
from ember import schedules as ember_schedules
from ember.optimizers.schedules.base import KerasSchedule


class CosineDecay(KerasSchedule, ember_schedules.CosineDecay):
    """A half cosine from ``initial_learning_rate`` down to ``alpha`` times it over
    ``decay_steps``, then flat; with ``warmup_target``, first a straight line up to it over
    ``warmup_steps``, the cosine then starting from ``warmup_target`` (Keras 3's).

    Example:
        >>> schedule = CosineDecay(0.5, decay_steps=4, warmup_target=1.0, warmup_steps=2)
        >>> [round(schedule.value(step), 4) for step in range(7)]
        [0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        checks.positive_int("decay_steps", decay_steps)  # Keras needs it (ember's may be None)
        super().__init__(initial_learning_rate, decay_steps, alpha, warmup_steps, warmup_target)
        self.name = name

    def value(self, step: Any) -> float:
        return self.learning_rate(float(step), self.decay_steps)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(KerasSchedule):
    """Cosine decay with warm restarts (SGDR): a half cosine over ``first_decay_steps``, then
    again over ``t_mul`` times as many steps from ``m_mul`` times the previous peak, and so on.

    Example:
        >>> schedule = CosineDecayRestarts(1.0, first_decay_steps=2, t_mul=1.0, m_mul=0.5)
        >>> [schedule.value(step) for step in range(5)]
        [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = checks.positive_number(
            "initial_learning_rate", initial_learning_rate
        )
        self.first_decay_steps = checks.positive_number("first_decay_steps", first_decay_steps)
        self.t_mul = checks.positive_number("t_mul", t_mul)
        self.m_mul = checks.non_negative_number("m_mul", m_mul)
        self.alpha = checks.number_in("alpha", alpha, 0, 1, closed="[]")
        self.name = name

    def value(self, step: Any) -> float:
        fraction = float(step) / self.first_decay_steps  # of the first period
        if self.t_mul == 1.0:
            restarts = math.floor(fraction)
            fraction -= restarts
        else:  # periods grow geometrically: find the current one, and the part of it done
            restarts = math.floor(
                math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul)
            )
            done = (1.0 - self.t_mul**restarts) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul**restarts
        cosine = 0.5 * self.m_mul**restarts * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }
