"""Keras' ``keras.optimizers.schedules``: learning rates as functions of the update step.

A schedule is passed as an optimizer's ``learning_rate``; ``schedule(step)`` is the learning
rate of update ``step`` (counting from 0, as Keras' ``optimizer.iterations``), and the trainer
sets each update's learning rate from it (a torch ``LambdaLR`` stepped after every batch).
Subclass :class:`LearningRateSchedule` and write ``__call__(step)`` for your own, as in Keras.

Example:
    >>> from ember import optimizers
    >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> optimizer = optimizers.Adam(learning_rate=schedule)
    >>> float(schedule(10)), schedule.value(20)
    (0.05000000074505806, 0.025)
"""

from __future__ import annotations

from typing import Any

from ember.errors import ConfigError
from ember.optimizers.schedules.base import LearningRateSchedule
from ember.optimizers.schedules.cosine import CosineDecay, CosineDecayRestarts
from ember.optimizers.schedules.step_decays import (
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]

_BUILT_IN = {
    schedule.__name__: schedule
    for schedule in (
        ExponentialDecay,
        CosineDecay,
        PiecewiseConstantDecay,
        InverseTimeDecay,
        PolynomialDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name", "config"}`` for a schedule; :func:`deserialize` inverts it.

    Example:
        >>> serialize(PiecewiseConstantDecay([10], [0.1, 0.01]))
        {'class_name': 'PiecewiseConstantDecay', 'config': {'boundaries': [10], 'values': [0.1, 0.01], 'name': 'PiecewiseConstant'}}
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise ConfigError(
            f"serialize expected a LearningRateSchedule, received {type(schedule).__name__}."
        )
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, type] | None = None
) -> LearningRateSchedule:
    """The schedule a ``{"class_name", "config"}`` dict describes (Keras' own, or one in
    ``custom_objects``).

    Example:
        >>> deserialize({"class_name": "InverseTimeDecay",
        ...              "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
        ...                         "decay_rate": 1.0}}).value(10)
        0.05
    """
    known = {**_BUILT_IN, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in known:
        raise ConfigError(
            f"deserialize expected {{'class_name': one of {sorted(known)}, 'config': {{...}}}}, "
            f"received {config!r}. Fix: pass a custom schedule class in custom_objects."
        )
    return known[name].from_config(config.get("config", {}))
