"""Optimizers by Keras name, as *specs*: the torch optimizer is built later, once parameters exist.

A spec holds the hyper-parameters (Keras names and defaults) and gradient clipping; the trainer
calls ``spec.build(params)`` to get a ``torch.optim`` optimizer, ``clip_gradients(params, spec)``
between ``backward`` and ``step``, and ``spec.schedule.build(...)`` for a learning-rate schedule.

Example:
    >>> import torch
    >>> from ember import optimizers
    >>> spec = optimizers.get("adam")
    >>> optimizer = spec.build(torch.nn.Linear(2, 1).parameters())
    >>> type(optimizer).__name__, optimizer.param_groups[0]["eps"]
    ('Adam', 1e-07)

Differences from Keras, kept on purpose because the update itself is torch's:

* ``weight_decay`` of ``SGD``, ``RMSprop`` and ``Adagrad`` is torch's L2 term added to the
  gradient; Keras 3 decays the weights directly (decoupled). ``Adam(weight_decay=...)`` and
  ``AdamW`` are decoupled, as in Keras (both build ``torch.optim.AdamW``).
* ``epsilon`` is passed to torch as ``eps``; torch adds it at a slightly different place in the
  Adam and RMSprop updates, which only matters when gradients are tiny.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ember.errors import ConfigError
from ember.optimizers import schedules
from ember.optimizers.adagrad import Adagrad
from ember.optimizers.adam import Adam, AdamW
from ember.optimizers.rmsprop import RMSprop
from ember.optimizers.rprop import Rprop
from ember.optimizers.sgd import SGD
from ember.optimizers.spec import OPTIMIZERS, OptimizerSpec, Params, clip_gradients

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "OptimizerSpec",
    "Params",
    "RMSprop",
    "Rprop",
    "clip_gradients",
    "get",
    "names",
    "schedules",
]

# Keras' default learning rate of each spec: the starting value under a schedule without one.
# Each spec holds its own (``default_learning_rate``, also its argument's default).
DEFAULT_LEARNING_RATES = {
    spec: spec.default_learning_rate for spec in (SGD, Adam, AdamW, RMSprop, Adagrad, Rprop)
}


class _Prebuilt(OptimizerSpec):
    """A torch optimizer made by the user: ``build`` returns it and ignores ``params``."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        super().__init__(float(optimizer.param_groups[0]["lr"]))
        self.optimizer = optimizer

    def build(self, params: Params) -> torch.optim.Optimizer:
        return self.optimizer

    def __repr__(self) -> str:
        return f"optimizers.get({type(self.optimizer).__name__}(...))"


class _FromFactory(OptimizerSpec):
    """A function ``params -> torch optimizer`` (a torch.optim class, a ``functools.partial``)."""

    def __init__(self, factory: Callable[[Params], torch.optim.Optimizer]) -> None:
        keywords = getattr(factory, "keywords", None) or {}
        super().__init__(keywords.get("lr", 0.001))
        self.factory = factory

    def build(self, params: Params) -> torch.optim.Optimizer:
        optimizer = self.factory(params)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"the optimizer factory {self.factory!r} returned a {type(optimizer).__name__}, "
                f"not a torch.optim.Optimizer. Fix: pass a function params -> optimizer, "
                f"e.g. functools.partial(torch.optim.SGD, lr=0.1)."
            )
        self._learning_rate = float(optimizer.param_groups[0]["lr"])
        return optimizer

    def __repr__(self) -> str:
        return f"optimizers.get({self.factory!r})"


def get(optimizer: Any) -> OptimizerSpec:
    """Return an optimizer spec for a Keras name, a spec, a torch optimizer or a factory.

    * ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, ``"rprop"`` (any case):
      the spec with Keras defaults;
    * a spec: itself;
    * a ``torch.optim.Optimizer`` instance: a spec whose ``build`` returns it;
    * a callable ``params -> Optimizer`` (a torch.optim class, ``functools.partial(...)``).

    Example:
        >>> import functools
        >>> get("rms_prop")
        RMSprop(learning_rate=0.001)
        >>> SGD(0.1, momentum=0.9, clipnorm=1.0)
        SGD(learning_rate=0.1, momentum=0.9, clipnorm=1.0)
        >>> spec = get(functools.partial(torch.optim.SGD, lr=0.1))
        >>> spec.build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["lr"]
        0.1
    """
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    if isinstance(optimizer, str):
        return OPTIMIZERS.get(optimizer)()
    if isinstance(optimizer, torch.optim.Optimizer):
        return _Prebuilt(optimizer)
    if callable(optimizer):
        return _FromFactory(optimizer)
    raise ConfigError(
        f"optimizer must be a name such as 'adam', an ember.optimizers spec, a torch optimizer "
        f"or a function params -> optimizer, received {optimizer!r}"
    )


def names() -> list[str]:
    """Every optimizer name :func:`get` accepts."""
    return OPTIMIZERS.names()
