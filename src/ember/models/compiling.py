"""What ``Model.compile`` builds: the task a model trains with on the engine.

One output: :class:`ember.Supervised` (its final softmax/sigmoid fused into the loss when it
has one); several outputs, or a loss per output: :class:`ember.tasks.MultiOutput`; a model that
overrides Keras' ``train_step``/``test_step``: :class:`ember.tasks.custom_step.CustomStep`
around the supervised task.

Example:
    >>> import torch, ember
    >>> model = ember.Model(torch.nn.Linear(3, 2))
    >>> type(build_task(model, "mse", None)).__name__
    'Supervised'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ember import losses
from ember import metrics as ember_metrics
from ember.errors import ConfigError
from ember.tasks.custom_step import CustomStep
from ember.tasks.multi_output import MultiOutput
from ember.tasks.supervised import Supervised
from ember.train.task import Task


def build_task(
    model: Any,
    loss: Any,
    metrics: Any,
    *,
    from_logits: bool = False,
    batch_transform: Any = None,
    loss_weights: Any = None,
    custom_train: bool = False,
    custom_test: bool = False,
) -> Task:
    """The task for ``model.compile(loss=..., metrics=..., loss_weights=...)``; bad arguments
    raise here, before any data arrives."""
    if loss is None:
        raise ConfigError(
            "compile() needs a loss, e.g. loss='sparse_categorical_crossentropy' for integer "
            "class labels or loss='mse' for regression."
        )
    names = output_names(model, loss)
    if names is not None:
        return MultiOutput(
            model.network,
            loss,
            names=names,
            loss_weights=loss_weights,
            metrics=metrics,
            from_logits=from_logits,
        )
    if loss_weights is not None:
        raise ConfigError(
            "loss_weights weighs the losses of several outputs, but this model has one. "
            "Fix: drop loss_weights."
        )
    if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, Sequence)):
        raise ConfigError(
            f"metrics must be a list, received metrics={metrics!r}. Fix: metrics=[{metrics!r}]."
        )
    loss_fn = losses.get(loss)
    for metric in metrics or []:
        ember_metrics.get(metric)  # unknown names fail here, before any data arrives
    logits = None
    fused = losses.logits_version(loss_fn, model.final_activation())
    # A custom step computes the loss from the model's outputs: no fused logits then.
    if fused is not None and not from_logits and not (custom_train or custom_test):
        loss_fn, logits = fused, model.logits
    task = Supervised(
        model.network,
        loss_fn,
        metrics,
        from_logits=from_logits,
        logits=logits,
        batch_transform=batch_transform,
    )
    return CustomStep(model, task, custom_test) if custom_train or custom_test else task


def output_names(model: Any, loss: Any) -> list[str] | None:
    """The outputs' names when the model has several (or the loss is given per output)."""
    names = getattr(model, "output_names", None)
    if names is not None and len(names) > 1:
        return list(names)
    if isinstance(loss, Mapping):
        return list(loss)
    if isinstance(loss, (list, tuple)):
        return [f"output_{index}" for index in range(len(loss))] if len(loss) > 1 else None
    return None
