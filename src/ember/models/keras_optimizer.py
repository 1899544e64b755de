"""Keras' ``model.optimizer``: the compiled optimizer, its learning rate read and set live.

Keras code reads and sets ``model.optimizer.learning_rate`` (a learning-rate scheduler written
as a callback does it every epoch). In ember the torch optimizer belongs to the engine and is
built by the first ``fit``; :class:`KerasOptimizer` is a view of it: reading gives the base rate
the optimizer steps with now, and setting changes it for the next step (every parameter group,
keeping the ratios of discriminative learning rates).

Example:
    >>> import numpy as np, torch, ember
    >>> model = ember.Sequential([ember.layers.Dense(1, input_shape=(2,))])
    >>> model.compile(optimizer=ember.optimizers.RMSprop(learning_rate=0.1), loss="mse")
    >>> model.optimizer.learning_rate  # before fit: the compiled rate
    0.1
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    >>> model.optimizer.learning_rate = 0.01
    >>> model.trainer.optimizer.param_groups[0]["lr"]
    0.01
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ember import checks
from ember.callbacks.learning_rate import current_learning_rate, set_learning_rate
from ember.errors import ConfigError
from ember.train.trainer import Trainer


class KerasOptimizer:
    """The optimizer ``compile`` was given, as Keras' ``model.optimizer`` shows it.

    ``learning_rate`` is the base learning rate (a float): the compiled one until the first
    ``fit`` builds the torch optimizer, then the one it steps with. Setting it needs the built
    optimizer and no schedule. ``iterations`` counts the training steps taken.
    """

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    @property
    def name(self) -> str:
        """The optimizer's class name in lower case (Keras' default ``name``)."""
        return type(self.trainer.optimizer_spec).__name__.lower()

    @property
    def iterations(self) -> int:
        """Training steps taken (Keras' ``optimizer.iterations``)."""
        return self.trainer.global_step

    @property
    def learning_rate(self) -> float:
        """The base learning rate now (see the class)."""
        optimizer = self.trainer.optimizer
        if optimizer is None:
            return self.trainer.optimizer_spec.learning_rate
        return current_learning_rate(optimizer)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        rate = _learning_rate(value)
        optimizer = self.trainer.optimizer
        if optimizer is None:
            raise ConfigError(
                f"model.optimizer.learning_rate = {rate} before the first fit: the optimizer is "
                f"built by fit, over the weights that train. Fix: set it from a callback (e.g. "
                f"in on_epoch_begin) or after fit, or compile with the rate to start at, e.g. "
                f"optimizer=ember.optimizers.Adam(learning_rate={rate})."
            )
        if self.trainer.scheduler is not None:
            raise ConfigError(
                f"model.optimizer.learning_rate = {rate}, but the rate follows the schedule it "
                f"was compiled with, which would overwrite it at the next step. Fix: compile "
                f"with a constant learning_rate to set it yourself, or change the schedule."
            )
        set_learning_rate(optimizer, rate)

    def __repr__(self) -> str:
        return f"KerasOptimizer({self.trainer.optimizer_spec!r})"


def _learning_rate(value: Any) -> float:
    # Keras code may assign a tensor or a numpy value (e.g. what the schedule got back).
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif isinstance(value, (np.ndarray, np.generic)) and value.size == 1:
        value = value.item()
    return checks.non_negative_number(
        "learning_rate", value, fix="assign a float, e.g. model.optimizer.learning_rate = 0.001"
    )
