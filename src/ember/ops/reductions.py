"""Reductions with Keras' names and arguments: ``axis`` (an int, a tuple or None for all axes)
and ``keepdims``.

Example:
    >>> from ember import ops
    >>> ops.sum([[1, 2], [3, 4]], axis=0), ops.mean([[1, 2], [3, 4]], axis=(0, 1))
    (tensor([4, 6], dtype=torch.int32), tensor(2.5000))
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import torch

from ember.ops.core import convert_to_tensor, floating, to_torch_dtype

Axis = int | Sequence[int] | None


def _dims(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a tuple of axes; None is every axis."""
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _integer_sum_dtype(tensor: torch.Tensor) -> torch.dtype | None:
    # torch sums integers in int64; Keras keeps int32 (and sums booleans as int32).
    if tensor.dtype == torch.bool:
        return torch.int32
    return None if tensor.is_floating_point() or tensor.is_complex() else tensor.dtype


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # shadows builtin
    """The sum over ``axis``. Example: ``sum([[1, 2], [3, 4]], axis=1)`` is ``[3, 7]``."""
    tensor = convert_to_tensor(x)
    dims = _dims(axis, tensor.ndim)
    return torch.sum(tensor, dim=dims, keepdim=keepdims, dtype=_integer_sum_dtype(tensor))


def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """The product over ``axis``. Example: ``prod([1, 2, 3])`` is 6."""
    tensor = convert_to_tensor(x)
    result_dtype = to_torch_dtype(dtype) or _integer_sum_dtype(tensor)
    for dim in sorted((d % builtins.max(tensor.ndim, 1) for d in _dims(axis, tensor.ndim)),
                      reverse=True):  # fmt: skip
        tensor = torch.prod(tensor, dim=dim, keepdim=keepdims)
    return tensor if result_dtype is None else tensor.to(result_dtype)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The mean over ``axis`` (float32 for integers). Example: ``mean([1, 2])`` is 1.5."""
    tensor = floating(x)
    return torch.mean(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)


def var(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The population variance (divided by n) over ``axis``. Example: ``var([1, 3])`` is 1."""
    tensor = floating(x)
    return torch.var(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims, correction=0)


def std(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """The population standard deviation over ``axis``. Example: ``std([1, 3])`` is 1."""
    tensor = floating(x)
    return torch.std(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims, correction=0)


def max(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """The largest value over ``axis`` (at least ``initial`` when given).

    Example:
        >>> max([[1, 5], [3, 2]], axis=0), max([1, 2], initial=4)
        (tensor([3, 5], dtype=torch.int32), tensor(4, dtype=torch.int32))
    """
    tensor = convert_to_tensor(x)
    result = torch.amax(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)
    return result if initial is None else torch.clamp(result, min=initial)


def min(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    """The smallest value over ``axis`` (at most ``initial`` when given)."""
    tensor = convert_to_tensor(x)
    result = torch.amin(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)
    return result if initial is None else torch.clamp(result, max=initial)


def amax(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`max` without ``initial``."""
    return max(x, axis, keepdims)


def amin(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """:func:`min` without ``initial``."""
    return min(x, axis, keepdims)


def _arg(function: Any, x: Any, axis: int | None, keepdims: bool) -> torch.Tensor:
    tensor = convert_to_tensor(x)
    if axis is None:
        index = function(tensor.reshape(-1))
        if keepdims:
            index = index.reshape([1] * tensor.ndim)
    else:
        index = function(tensor, dim=axis, keepdim=keepdims)
    return index.to(torch.int32)  # Keras' index dtype


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the largest value along ``axis`` (of the flattened ``x`` when None), int32.

    Example:
        >>> argmax([[1, 5], [3, 2]], axis=1)
        tensor([1, 0], dtype=torch.int32)
    """
    return _arg(torch.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the smallest value along ``axis`` (of the flattened ``x`` when None)."""
    return _arg(torch.argmin, x, axis, keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # shadows builtin
    """Whether any value over ``axis`` is non-zero (bool)."""
    tensor = convert_to_tensor(x).bool()
    return torch.any(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # shadows builtin
    """Whether every value over ``axis`` is non-zero (bool)."""
    tensor = convert_to_tensor(x).bool()
    return torch.all(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, without overflow."""
    tensor = floating(x)
    return torch.logsumexp(tensor, dim=_dims(axis, tensor.ndim), keepdim=keepdims)


def norm(x: Any, ord: Any = None, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """numpy's ``linalg.norm``: of the flattened ``x`` (2-norm) when ``axis`` and ``ord`` are
    None, of vectors along one axis, of matrices over two.

    Example:
        >>> norm([3.0, 4.0]), norm([[1.0, -2.0]], ord=1, axis=1)
        (tensor(5.), tensor([3.]))
    """
    tensor = floating(x)
    return torch.linalg.norm(tensor, ord=ord, dim=axis, keepdim=keepdims)


def _cumulative(function: Any, x: Any, axis: int | None, dtype: Any) -> torch.Tensor:
    tensor = convert_to_tensor(x)
    if axis is None:
        tensor, axis = tensor.reshape(-1), 0
    result_dtype = to_torch_dtype(dtype) or _integer_sum_dtype(tensor)
    return function(tensor, dim=axis, dtype=result_dtype)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running sums along ``axis`` (of the flattened ``x`` when None).

    Example:
        >>> cumsum([[1, 2], [3, 4]])
        tensor([ 1,  3,  6, 10], dtype=torch.int32)
    """
    return _cumulative(torch.cumsum, x, axis, dtype)


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    """Running products along ``axis`` (of the flattened ``x`` when None)."""
    return _cumulative(torch.cumprod, x, axis, dtype)


def count_nonzero(x: Any, axis: Axis = None) -> torch.Tensor:
    """How many values over ``axis`` are non-zero (int32)."""
    tensor = convert_to_tensor(x)
    return torch.count_nonzero(tensor, dim=_dims(axis, tensor.ndim)).to(torch.int32)
