"""Keras' model attributes over the engine's state: ``trainable``, ``stop_training``,
``optimizer``, ``weights``/``trainable_weights``/``non_trainable_weights``; ``Model`` takes them
as properties, and ``evaluate``'s list of values in Keras' order.

Example:
    >>> import torch, ember
    >>> model = ember.Model(torch.nn.Linear(4, 2))
    >>> model.trainable = False
    >>> model.trainable, model.module.weight.requires_grad, len(model.non_trainable_weights)
    (False, False, 2)
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.layers.freezing import is_trainable, set_trainable
from ember.models.keras_optimizer import KerasOptimizer
from ember.tasks.multi_output import MultiOutput


def _get_trainable(model: Any) -> bool:
    return is_trainable(model)


def _set_trainable(model: Any, value: bool) -> None:
    set_trainable(model.modules(), bool(value), training=model.training)


trainable = property(
    _get_trainable,
    _set_trainable,
    doc="""Keras' ``trainable``: whether any weight of the model trains (for a model without
    weights yet, the last value set; True at first).

    False freezes every weight (also those lazy layers build later) and holds the model's
    batch-norm layers in inference mode while frozen, as in Keras; True undoes both. The next
    ``fit`` sees the change and builds a new optimizer over the weights that train (Keras asks
    for ``compile()`` again; here the engine does it). For part of a model see
    :func:`ember.transfer.freeze`.""",
)


def _get_stop_training(model: Any) -> bool:
    return bool(model.trainer is not None and model.trainer.stop_training)


def _set_stop_training(model: Any, value: bool) -> None:
    if model.trainer is not None:
        model.trainer.stop_training = bool(value)


stop_training = property(
    _get_stop_training,
    _set_stop_training,
    doc="Keras' ``model.stop_training``: set it from a callback to stop after this epoch.",
)


def _optimizer(model: Any) -> KerasOptimizer | None:
    return None if model.trainer is None else KerasOptimizer(model.trainer)


optimizer = property(
    _optimizer,
    doc="""Keras' ``model.optimizer`` (None before ``compile``): the compiled optimizer, whose
    ``learning_rate`` reads and sets the rate the engine trains with (see
    :class:`~ember.models.keras_optimizer.KerasOptimizer`).""",
)


def _trainable_weights(model: Any) -> list[nn.Parameter]:
    return [p for p in model.network.parameters() if p.requires_grad]


def _non_trainable_weights(model: Any) -> list[nn.Parameter]:
    return [p for p in model.network.parameters() if not p.requires_grad]


trainable_weights = property(_trainable_weights, doc="The parameters that train.")
non_trainable_weights = property(_non_trainable_weights, doc="The frozen parameters.")
weights = property(
    lambda model: _trainable_weights(model) + _non_trainable_weights(model),
    doc="Keras' ``weights``: every parameter, trainable ones first.",
)


def evaluation_values(task: Any, logs: dict[str, float]) -> float | list[float]:
    """``evaluate``'s result without ``return_dict``: the loss alone, or the values in Keras'
    order (loss, each output's loss, the metrics)."""
    if isinstance(task, MultiOutput):
        names = list(logs)
    elif task.metrics is not None:
        names = ["loss", *task.metrics.names]
    else:
        names = ["loss", *(name for name in logs if name != "loss")]
    values = [logs[name] for name in names if name in logs]
    return values[0] if len(values) == 1 else values
