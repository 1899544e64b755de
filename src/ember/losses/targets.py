"""Label checks against a loss, once before training: :func:`validate_targets`."""

from __future__ import annotations

import torch

from ember.errors import DataError
from ember.losses.base import Loss
from ember.losses.functions import Hinge, SquaredHinge
from ember.losses.wrappers import FunctionLoss, TorchLoss


def _range(y: torch.Tensor) -> tuple[float, float]:
    low, high = torch.aminmax(y.detach().reshape(-1).double())
    return float(low), float(high)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def validate_targets(loss: Loss, y: torch.Tensor, num_outputs: int) -> None:
    """Check labels ``y`` against ``loss`` and a model with ``num_outputs`` outputs (last axis).

    Raises :class:`~ember.errors.DataError` saying what was received, what was expected and the fix.
    Reads the device once; call it before training, not per step.

    Example:
        >>> import torch
        >>> from ember.losses import SparseCategoricalCrossentropy
        >>> validate_targets(SparseCategoricalCrossentropy(), torch.tensor([0, 11]), 10)
        Traceback (most recent call last):
        ...
        ember.errors.DataError: sparse_categorical_crossentropy expects integer class labels ...
    """
    name = loss.name
    if y.numel() == 0:
        raise DataError(f"{name} received an empty label tensor. Fix: pass some labels.")
    if y.is_floating_point() and not bool(torch.isfinite(y).all()):
        raise DataError(f"{name} received labels containing NaN or inf. Fix: clean the labels.")
    if y.dtype == torch.bool:
        y = y.long()
    if isinstance(loss, FunctionLoss) or (
        isinstance(loss, TorchLoss) and loss.kind == "regression"
    ):
        return  # what a user's loss expects is not known here; it fails on its own terms
    low, high = _range(y)
    span = f"from {_number(low)} to {_number(high)}"
    if loss.kind == "multiclass":
        onehot = y.is_floating_point() and y.ndim >= 2 and y.shape[-1] == num_outputs > 1
        if loss.targets == "sparse" or (loss.targets == "any" and not onehot):
            _check_sparse(name, y, num_outputs, low, high, span, onehot)
        elif loss.targets == "onehot":
            _check_onehot(name, y, num_outputs, low, high, span)
    elif loss.kind == "binary":
        if isinstance(loss, (Hinge, SquaredHinge)):
            if low < -1 or high > 1:
                raise DataError(
                    f"{name} expects labels -1/1 (or 0/1), received labels {span}. "
                    f"Fix: map the two classes to -1 and 1."
                )
        elif low < 0 or high > 1:
            hint = (
                "if these are class indices, use sparse_categorical_crossentropy with one "
                "output per class"
                if high > 1 and float(high).is_integer()
                else "map the labels to 0/1 (e.g. (y + 1) / 2 for -1/1 labels)"
            )
            raise DataError(
                f"{name} expects targets in [0, 1], received targets {span}. Fix: {hint}."
            )
        _check_columns(name, y, num_outputs)
    else:
        _check_columns(name, y, num_outputs)


def _check_sparse(name, y, num_outputs, low, high, span, onehot) -> None:
    if onehot:
        raise DataError(
            f"{name} expects integer class labels of shape (N,), received one-hot labels of shape "
            f"{tuple(y.shape)}: use categorical_crossentropy, or convert with y.argmax(-1)."
        )
    if y.is_floating_point() and not bool((y == y.round()).all()):
        raise DataError(
            f"{name} expects integer class labels in [0, {num_outputs}), received float labels "
            f"{span} with fractional values. Fix: pass class indices (e.g. y.long()); for "
            f"probabilities use binary_crossentropy or categorical_crossentropy."
        )
    if low < 0 or high >= num_outputs:
        if num_outputs == 1:
            fix = "use binary_crossentropy with a sigmoid output, or give the last layer one unit "
            fix += f"per class ({int(high) + 1})"
        else:
            fix = f"give the last layer {int(high) + 1} units, or remap the labels to "
            fix += f"0..{num_outputs - 1}"
        raise DataError(
            f"{name} expects integer class labels in [0, {num_outputs}) (one per output unit), "
            f"received labels {span}. Fix: {fix}."
        )


def _check_onehot(name, y, num_outputs, low, high, span) -> None:
    # Integer 0/1 rows of the outputs' width are one-hot (or multi-hot) labels: Keras casts
    # them to floats, and so does the loss.
    rows = y.ndim >= 2 and y.shape[-1] == num_outputs > 1 and low >= 0 and high <= 1
    if (
        (not y.is_floating_point() and not rows)
        or y.ndim == 1
        or (y.shape[-1] == 1 and num_outputs > 1)
    ):
        raise DataError(
            f"{name} expects one-hot labels of shape (N, {num_outputs}), received integer class "
            f"labels of shape {tuple(y.shape)}: use sparse_categorical_crossentropy, or one-hot "
            f"encode with torch.nn.functional.one_hot(y, {num_outputs}).float()."
        )
    if y.shape[-1] != num_outputs:
        raise DataError(
            f"{name} expects labels with one column per output ({num_outputs}), received labels "
            f"of shape {tuple(y.shape)}. Fix: give the last layer {y.shape[-1]} units, or encode "
            f"the labels with {num_outputs} classes."
        )
    if low < 0 or high > 1:
        raise DataError(
            f"{name} expects one-hot or probability rows in [0, 1], received values {span}. "
            f"Fix: pass one-hot labels, or class indices with sparse_categorical_crossentropy."
        )


def _check_columns(name: str, y: torch.Tensor, num_outputs: int) -> None:
    columns = 1 if y.ndim == 1 else y.shape[-1]
    if columns != num_outputs:
        raise DataError(
            f"{name} expects {num_outputs} target value(s) per sample (one per output), received "
            f"targets of shape {tuple(y.shape)}. Fix: give the last layer {columns} units, or "
            f"reshape the targets."
        )
