"""Keras' array helpers for labels and features: ``to_categorical`` and ``normalize``.

Both follow Keras: numpy (or a list) in, numpy out; a torch tensor in, a tensor out.

Example:
    >>> from ember.utils import to_categorical
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import DataError


def _class_indices(y: Any) -> np.ndarray:
    """``y`` as int64 class indices, refusing fractions and negatives (Keras casts them silently,
    and a -1 would land in the last class)."""
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise DataError(
            f"to_categorical expected integer class indices, received an array of dtype "
            f"{labels.dtype}. Fix: map the labels to 0 .. num_classes - 1 first."
        )
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise DataError(
            "to_categorical expected integer class indices, received fractional values such "
            f"as {labels[labels != np.round(labels)].flat[0]}. Fix: pass integer labels."
        )
    indices = labels.astype(np.int64)
    if indices.size and indices.min() < 0:
        raise DataError(
            f"to_categorical expected class indices >= 0, received {indices.min()}. "
            f"Fix: map the labels to 0 .. num_classes - 1 first."
        )
    return indices


def to_categorical(y: Any, num_classes: int | None = None) -> Any:
    """One-hot rows for class indices ``y``, the class axis last (Keras' ``to_categorical``).

    ``num_classes`` defaults to ``max(y) + 1``. A trailing axis of size 1 (labels of shape
    ``(n, 1)``) is dropped first, as in Keras. Numpy or lists give a float64 numpy array; a torch
    tensor gives a float32 tensor on its device.

    Example:
        >>> to_categorical(np.array([[1], [0]]))
        array([[0., 1.],
               [1., 0.]])
        >>> to_categorical(torch.tensor([2, 0]), num_classes=3)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    checks.positive_int("num_classes", num_classes, allow_none=True)
    as_tensor = isinstance(y, torch.Tensor)
    indices = _class_indices(y.detach().cpu().numpy() if as_tensor else y)
    if indices.ndim > 1 and indices.shape[-1] == 1:
        indices = indices[..., 0]
    if num_classes is None:
        num_classes = int(indices.max()) + 1 if indices.size else 1
    elif indices.size and indices.max() >= num_classes:
        raise DataError(
            f"to_categorical received class index {indices.max()} with "
            f"num_classes={num_classes}. Fix: pass num_classes > {indices.max()}, or leave it "
            f"None to count the classes."
        )
    one_hot = np.eye(num_classes)[indices]  # (..., num_classes)
    if as_tensor:
        return torch.from_numpy(one_hot).to(device=y.device, dtype=torch.float32)
    return one_hot


def normalize(x: Any, axis: int = -1, order: float = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (Keras' ``utils.normalize``).

    Numpy in, numpy out: a zero vector stays zero (its norm counts as 1). A torch tensor is
    divided by ``max(norm, 1e-7)`` instead, as Keras does for tensors.

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    checks.positive_number("order", order)
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / norm.clamp_min(1e-7)
    x = np.asarray(x)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
