"""Keras' ``ops.nn``: activations, ``softmax``, ``one_hot``, ``moments``, ``normalize`` and the
cross-entropies of predictions against targets (per sample, not averaged).

Each is also under ``ember.ops`` itself, as in Keras.

Example:
    >>> from ember import ops
    >>> ops.nn.softmax([0.0, 0.0]), ops.relu([-1.0, 2.0])
    (tensor([0.5000, 0.5000]), tensor([0., 2.]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 (torch's own alias)

from ember.errors import ShapeError
from ember.ops.core import convert_to_tensor, floating, to_torch_dtype

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "elu",
    "gelu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "moments",
    "normalize",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "swish",
]

# Keras' backend.epsilon(): how far probabilities are kept from 0 and 1 before a log.
EPSILON = 1e-7


def relu(x: Any) -> torch.Tensor:
    """``max(x, 0)``."""
    return F.relu(convert_to_tensor(x))


def relu6(x: Any) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(floating(x))


def sigmoid(x: Any) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(floating(x))


def log_sigmoid(x: Any) -> torch.Tensor:
    """``log(sigmoid(x))``, without underflow."""
    return F.logsigmoid(floating(x))


def hard_sigmoid(x: Any) -> torch.Tensor:
    """``relu6(x + 3) / 6``: a piecewise-linear sigmoid."""
    return F.hardsigmoid(floating(x))


def silu(x: Any) -> torch.Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return F.silu(floating(x))


swish = silu


def hard_silu(x: Any) -> torch.Tensor:
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    return F.hardswish(floating(x))


hard_swish = hard_silu


def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """The Gaussian error linear unit; Keras' ``ops.gelu`` uses the tanh approximation unless
    ``approximate=False``."""
    return F.gelu(floating(x), approximate="tanh" if approximate else "none")


def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``x`` if positive, else ``alpha * (exp(x) - 1)``."""
    return F.elu(floating(x), alpha=alpha)


def selu(x: Any) -> torch.Tensor:
    """The scaled ELU of self-normalising networks."""
    return F.selu(floating(x))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` if positive, else ``negative_slope * x`` (Keras' slope is 0.2; torch's 0.01)."""
    return F.leaky_relu(floating(x), negative_slope=negative_slope)


def softplus(x: Any) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(floating(x))


def softsign(x: Any) -> torch.Tensor:
    """``x / (1 + |x|)``."""
    return F.softsign(floating(x))


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``."""
    return torch.softmax(floating(x), dim=axis)


def log_softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """``log(softmax(x))`` along ``axis``, computed stably."""
    return torch.log_softmax(floating(x), dim=axis)


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> torch.Tensor:
    """One-hot vectors of the class indices ``x``, the new axis at ``axis`` (float32 by
    default); an index outside ``[0, num_classes)`` gives a row of zeros (as TensorFlow's;
    Keras' torch backend does so for negative indices and fails on large ones).

    Example:
        >>> one_hot([2, -1], 3)
        tensor([[0., 0., 1.],
                [0., 0., 0.]])
    """
    index = convert_to_tensor(x).long()
    inside = (index >= 0) & (index < num_classes)
    vectors = F.one_hot(torch.where(inside, index, 0), num_classes) * inside.unsqueeze(-1)
    return torch.movedim(vectors, -1, axis).to(to_torch_dtype(dtype) or torch.float32)


def moments(
    x: Any, axes: int | Sequence[int], keepdims: bool = False, synchronized: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and the (population) variance of ``x`` over ``axes``.

    Example:
        >>> moments([1.0, 3.0], axes=0)
        (tensor(2.), tensor(1.))
    """
    tensor = floating(x)
    dims = (axes,) if isinstance(axes, int) else tuple(axes)
    variance, mean = torch.var_mean(tensor, dim=dims, keepdim=keepdims, correction=0)
    return mean, variance


def normalize(x: Any, axis: int = -1, order: float = 2, epsilon: float | None = None) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``, 1e-7)."""
    tensor = floating(x)
    norm = torch.linalg.vector_norm(tensor, ord=order, dim=axis, keepdim=True)
    return tensor / norm.clamp_min(EPSILON if epsilon is None else epsilon)


def _same_shapes(target: torch.Tensor, output: torch.Tensor, name: str) -> None:
    if target.shape != output.shape:
        raise ShapeError(
            f"{name} needs target and output of one shape, received target "
            f"{tuple(target.shape)} and output {tuple(output.shape)}."
        )


def _log_probabilities(output: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
    if from_logits:
        return torch.log_softmax(output, dim=axis)
    output = output / output.sum(dim=axis, keepdim=True)  # Keras rescales to sum 1
    return torch.log(output.clamp(EPSILON, 1.0 - EPSILON))


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    """``-(t log p + (1 - t) log(1 - p))`` per element (``p`` kept within 1e-7 of 0 and 1).

    Example:
        >>> binary_crossentropy([1.0, 0.0], [0.5, 0.5])
        tensor([0.6931, 0.6931])
    """
    target, output = floating(target), floating(output)
    _same_shapes(target, output, "binary_crossentropy")
    target = target.to(output.device, output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = output.clamp(EPSILON, 1.0 - EPSILON)
    return F.binary_cross_entropy(output, target, reduction="none")


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """``-sum(t * log p)`` along ``axis``, for one-hot (or soft) targets.

    Example:
        >>> categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]])
        tensor([0.6931])
    """
    target, output = floating(target), floating(output)
    _same_shapes(target, output, "categorical_crossentropy")
    log_probabilities = _log_probabilities(output, from_logits, axis)
    return -(target.to(output.device, output.dtype) * log_probabilities).sum(dim=axis)


def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """:func:`categorical_crossentropy` of class indices ``target`` (shape ``output``'s
    without ``axis``, or with it of size 1).

    Example:
        >>> sparse_categorical_crossentropy([1], [[0.5, 0.5]])
        tensor([0.6931])
    """
    index, output = convert_to_tensor(target).long(), floating(output)
    if index.ndim == output.ndim and index.shape[-1] == 1:
        index = index.squeeze(-1)
    expected = output.shape[: axis % output.ndim] + output.shape[axis % output.ndim + 1 :]
    if index.shape != expected:
        raise ShapeError(
            f"sparse_categorical_crossentropy needs targets of shape {tuple(expected)} (the "
            f"output's {tuple(output.shape)} without axis {axis}), received "
            f"{tuple(index.shape)}."
        )
    log_probabilities = _log_probabilities(output, from_logits, axis)
    targets = one_hot(index.to(output.device), output.shape[axis], axis=axis, dtype=output.dtype)
    return -(targets * log_probabilities).sum(dim=axis)
