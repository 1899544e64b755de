"""Losses by Keras name, as ``torch.nn`` modules with PyTorch argument order.

Every loss is called ``loss(y_pred, y_true, sample_weight=None)`` and returns a scalar reduced the
Keras way ("sum over batch size"): each sample's loss is the mean over its non-batch elements, is
multiplied by its ``sample_weight``, and the sum is divided by the batch size ``N``.

Each loss also says what it is for, so that the engine can pick metrics and check labels:
``kind`` ("multiclass", "binary" or "regression"), ``targets`` ("sparse", "onehot" or "any") and
``from_logits``.

The package has one module per job: ``base`` (the :class:`Loss` base class, the ``LOSSES``
registry and the reduction helpers), ``functions`` (the Keras losses by name), ``wrappers``
(torch loss modules and plain functions as losses) and ``targets`` (:func:`validate_targets`).
Lookup by name and the logits variants (:func:`get`, :func:`with_logits`,
:func:`logits_version`) live here.

Example:
    >>> import torch
    >>> from ember import losses
    >>> loss = losses.get("sparse_categorical_crossentropy")
    >>> probabilities = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    >>> round(loss(probabilities, torch.tensor([0, 1])).item(), 4)
    0.1643
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.errors import ConfigError
from ember.losses.base import EPSILON, LOSSES, Loss, masked_mean, step_weights
from ember.losses.functions import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Hinge,
    Huber,
    KLDivergence,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from ember.losses.targets import validate_targets
from ember.losses.wrappers import FunctionLoss, TorchLoss

__all__ = [
    "EPSILON",
    "LOSSES",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "FunctionLoss",
    "Hinge",
    "Huber",
    "KLDivergence",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "TorchLoss",
    "get",
    "logits_version",
    "masked_mean",
    "probabilities_version",
    "step_weights",
    "validate_targets",
    "with_logits",
]


# -- lookup ---------------------------------------------------------------------------------------
def get(spec: Any) -> Loss:
    """Return a loss module for a Keras name, a loss instance or class, a torch loss, or a function.

    Example:
        >>> import torch
        >>> get("mse")
        MeanSquaredError()
        >>> get(torch.nn.BCEWithLogitsLoss()).kind
        'binary'
    """
    if isinstance(spec, str):
        return LOSSES.get(spec)()
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return get(spec())
    if isinstance(spec, nn.Module) and isinstance(getattr(spec, "reduction", None), str):
        return TorchLoss(spec)
    if callable(spec):
        return FunctionLoss(spec)
    raise ConfigError(
        f"expected a loss name, a loss module or a function (y_pred, y_true), received {spec!r} "
        f"of type {type(spec).__name__}. Known losses: {', '.join(LOSSES.names())}."
    )


def with_logits(loss: Loss) -> Loss:
    """The same loss computed from logits (keeps ``label_smoothing``); ``loss`` itself if it already
    takes logits or has no probability form (regression, hinge).

    Example:
        >>> with_logits(CategoricalCrossentropy(label_smoothing=0.1))
        CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    """
    if loss.from_logits or loss.kind == "regression":
        return loss
    if isinstance(loss, (BinaryCrossentropy, CategoricalCrossentropy)):
        return type(loss)(from_logits=True, label_smoothing=loss.label_smoothing)
    if isinstance(loss, SparseCategoricalCrossentropy):
        return SparseCategoricalCrossentropy(from_logits=True)
    if isinstance(loss, TorchLoss) and type(loss.loss) is nn.BCELoss and loss.loss.weight is None:
        return TorchLoss(nn.BCEWithLogitsLoss(reduction=loss.loss.reduction))
    raise ConfigError(
        f"the loss {loss.name!r} has no form that takes logits. Fix: keep the model's final "
        f"activation, or use an ember loss with from_logits=True."
    )


def probabilities_version(loss: Loss) -> Loss:
    """The inverse of :func:`with_logits`: the same loss computed from probabilities, for a
    model whose fused final activation must run after all (a masked sequence model, whose
    output mask comes with the final layer's output); ``loss`` itself if it takes probabilities.

    Example:
        >>> probabilities_version(SparseCategoricalCrossentropy(from_logits=True))
        SparseCategoricalCrossentropy(from_logits=False)
    """
    if not loss.from_logits or loss.kind == "regression":
        return loss
    if isinstance(loss, (BinaryCrossentropy, CategoricalCrossentropy)):
        return type(loss)(from_logits=False, label_smoothing=loss.label_smoothing)
    if isinstance(loss, SparseCategoricalCrossentropy):
        return SparseCategoricalCrossentropy()
    plain_bce = (
        isinstance(loss, TorchLoss)
        and type(loss.loss) is nn.BCEWithLogitsLoss
        and loss.loss.weight is None
        and loss.loss.pos_weight is None
    )
    if plain_bce:
        return TorchLoss(nn.BCELoss(reduction=loss.loss.reduction))
    raise ConfigError(
        f"the loss {loss.name!r} takes logits and has no form that takes probabilities. Fix: "
        f"pass from_logits=True and remove the model's final softmax/sigmoid."
    )


def logits_version(loss: Loss, activation_name: str | None) -> Loss | None:
    """The fused, stable loss to use on logits when the model ends in ``activation_name``, or None.

    Softmax + (sparse) categorical cross-entropy and sigmoid + binary cross-entropy can skip the
    final activation and compute the loss from logits.

    Example:
        >>> logits_version(SparseCategoricalCrossentropy(), "softmax")
        SparseCategoricalCrossentropy(from_logits=True)
        >>> logits_version(MeanSquaredError(), "softmax") is None
        True
    """
    if activation_name is None or loss.from_logits:
        return None
    activation = activation_name.lower()
    multiclass = isinstance(loss, (CategoricalCrossentropy, SparseCategoricalCrossentropy))
    binary = isinstance(loss, BinaryCrossentropy) or (
        isinstance(loss, TorchLoss) and type(loss.loss) is nn.BCELoss and loss.loss.weight is None
    )
    if (activation == "softmax" and multiclass) or (activation == "sigmoid" and binary):
        return with_logits(loss)
    return None
