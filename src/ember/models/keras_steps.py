"""Keras' hooks for customising ``fit`` on a model: ``train_step``, ``test_step``,
``compute_loss``, ``compute_metrics``; ``Model`` takes these functions as its methods.

The defaults run the compiled supervised task's steps; a subclass overrides ``train_step`` to
change what one step computes and returns ``{"loss": ...}`` (the engine runs ``backward`` and
the optimizer step: see :mod:`ember.tasks.custom_step`).
"""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError, NotCompiledError
from ember.models.call_arguments import as_batch
from ember.tasks.supervised import Supervised
from ember.train.task import Task


def compiled_task(model: Any, action: str) -> Task:
    """The task ``compile`` built, or an error saying to compile before ``action``."""
    if model.task is None or model.trainer is None:
        raise NotCompiledError(
            f"call model.compile(optimizer=..., loss=...) before {action}(). "
            f"Example: model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
            f"metrics=['accuracy'])"
        )
    return model.task


def supervised_task(model: Any, action: str) -> Supervised:
    """The compiled single-loss task (inside a custom step's, when there is one)."""
    task = compiled_task(model, action)
    supervised = getattr(task, "supervised", task)
    if not isinstance(supervised, Supervised):
        raise ConfigError(
            f"{action}() needs one compiled loss; this model has several outputs "
            f"(loss per output). Fix: compute the loss yourself from the outputs."
        )
    return supervised


def train_step(self: Any, data: Any) -> dict[str, torch.Tensor]:
    """One training step on ``data`` (``(x, y)`` or ``(x, y, sample_weight)``): override it
    to customise ``fit``, as in Keras, and return ``{"loss": loss, ...}``. The engine runs
    ``backward`` and the optimizer step afterwards (see :mod:`ember.tasks.custom_step`)."""
    return supervised_task(self, "train_step").training_step(as_batch(data))


def test_step(self: Any, data: Any) -> dict[str, torch.Tensor]:
    """One evaluation step; override it to customise ``evaluate`` and validation."""
    return supervised_task(self, "test_step").validation_step(as_batch(data))


def compute_loss(
    self: Any,
    x: Any = None,
    y: Any = None,
    y_pred: Any = None,
    sample_weight: Any = None,
    training: bool = True,
) -> torch.Tensor:
    """The compiled loss (with class/sample weights and weight penalties), as Keras'
    ``compute_loss``; ``y_pred`` defaults to the model's outputs for ``x``."""
    supervised = supervised_task(self, "compute_loss")
    if y_pred is None:
        y_pred = self(x, training=training)
    return supervised.loss_of(y_pred, y, sample_weight)


def compute_metrics(
    self: Any, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
) -> dict[str, float]:
    """Add a batch to the compiled metrics (Keras' ``compute_metrics``). They are read once
    per epoch, so this returns an empty dict rather than forcing a device sync per step."""
    supervised_task(self, "compute_metrics").update_metrics(y_pred, y)
    return {}
