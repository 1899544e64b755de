"""Ops that pick or place values by index: ``take``, ``slice``, ``scatter``, sorting, ``top_k``
and diagonals (Keras' names and arguments).

Example:
    >>> from ember import ops
    >>> ops.take([[1, 2], [3, 4]], [1, 0], axis=1)
    tensor([[2, 1],
            [4, 3]], dtype=torch.int32)
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import torch

from ember.errors import ShapeError
from ember.ops.core import as_tensors, convert_to_tensor


def _indices(indices: Any, size: int, device: torch.device) -> torch.Tensor:
    """``indices`` as int64 on ``device``, negative ones counted from the end (numpy's rule)."""
    index = convert_to_tensor(indices).to(device=device, dtype=torch.int64)
    return torch.where(index < 0, index + size, index)


def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """The entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None);
    the result has ``indices``' shape in place of that axis.

    Example:
        >>> take([10, 20, 30], [[0, -1]])
        tensor([[10, 30]], dtype=torch.int32)
    """
    tensor = convert_to_tensor(x)
    if axis is None:
        tensor, axis = tensor.reshape(-1), 0
    axis = axis % tensor.ndim
    index = _indices(indices, tensor.shape[axis], tensor.device)
    picked = tensor.index_select(axis, index.reshape(-1))
    return picked.reshape(*tensor.shape[:axis], *index.shape, *tensor.shape[axis + 1 :])


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """The entries of ``x`` at ``indices`` along ``axis``, the other axes broadcast (numpy's
    ``take_along_axis``; the flattened ``x`` when None).

    Example:
        >>> take_along_axis([[4, 1], [2, 3]], [[1], [0]], axis=1)
        tensor([[1],
                [2]], dtype=torch.int32)
    """
    tensor = convert_to_tensor(x)
    if axis is None:
        tensor, axis = tensor.reshape(-1), 0
    index = _indices(indices, tensor.shape[axis], tensor.device)
    return torch.take_along_dim(tensor, index, dim=axis)


def slice(inputs: Any, start_indices: Sequence[int], shape: Sequence[int]) -> torch.Tensor:
    """The block of ``inputs`` starting at ``start_indices`` with ``shape``.

    Example:
        >>> import numpy as np
        >>> slice(np.arange(12).reshape(3, 4), (1, 1), (2, 2))
        tensor([[ 5,  6],
                [ 9, 10]])
    """
    tensor = convert_to_tensor(inputs)
    window = tuple(
        builtins.slice(int(start), int(start) + int(size))
        for start, size in zip(start_indices, shape)
    )
    return tensor[window]


def slice_update(inputs: Any, start_indices: Sequence[int], updates: Any) -> torch.Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
        >>> import numpy as np
        >>> slice_update(np.zeros(4), (1,), np.ones(2))
        tensor([0., 1., 1., 0.], dtype=torch.float64)
    """
    tensor, values = as_tensors(inputs, updates)
    window = tuple(
        builtins.slice(int(start), int(start) + size)
        for start, size in zip(start_indices, values.shape)
    )
    result = tensor.clone()
    result[window] = values.to(result.dtype)
    return result


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (one row of coordinates
    per value; repeated coordinates add up, as in Keras).

    Example:
        >>> scatter([[0, 1], [1, 0], [0, 1]], [1.0, 2.0, 3.0], (2, 2))
        tensor([[0., 4.],
                [2., 0.]])
    """
    values = convert_to_tensor(values)
    index = convert_to_tensor(indices).to(device=values.device, dtype=torch.int64)
    result = values.new_zeros(tuple(shape))
    return result.index_put_(tuple(index.unbind(-1)), values, accumulate=True)


def scatter_update(inputs: Any, indices: Any, updates: Any) -> torch.Tensor:
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (rows of coordinates)."""
    tensor, values = as_tensors(inputs, updates)
    index = convert_to_tensor(indices).to(device=tensor.device, dtype=torch.int64)
    return tensor.clone().index_put_(tuple(index.unbind(-1)), values.to(tensor.dtype))


def sort(x: Any, axis: int = -1) -> torch.Tensor:
    """``x`` sorted in increasing order along ``axis``."""
    return torch.sort(convert_to_tensor(x), dim=axis).values


def argsort(x: Any, axis: int = -1) -> torch.Tensor:
    """The indices that sort ``x`` along ``axis`` (stable: ties keep their order), int32."""
    tensor = convert_to_tensor(x)
    if axis is None:
        tensor, axis = tensor.reshape(-1), 0
    return torch.argsort(tensor, dim=axis, stable=True).to(torch.int32)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest values along the last axis and their indices, as ``(values, indices)``.

    Example:
        >>> values, indices = top_k([1.0, 3.0, 2.0], 2)
        >>> values, indices
        (tensor([3., 2.]), tensor([1, 2]))
    """
    tensor = convert_to_tensor(x)
    if not 0 < k <= tensor.shape[-1]:
        raise ShapeError(
            f"top_k needs 0 < k <= {tensor.shape[-1]} (the last axis of shape "
            f"{tuple(tensor.shape)}), received k={k!r}."
        )
    return torch.topk(tensor, k, dim=-1, sorted=sorted)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The diagonal ``offset`` of the matrices in axes ``axis1`` and ``axis2`` (last axis)."""
    return torch.diagonal(convert_to_tensor(x), offset=offset, dim1=axis1, dim2=axis2)


def diag(x: Any, k: int = 0) -> torch.Tensor:
    """A vector's square matrix with it on diagonal ``k``, or a matrix's diagonal ``k``."""
    return torch.diag(convert_to_tensor(x), diagonal=k)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """The sum of diagonal ``offset`` of the matrices in axes ``axis1`` and ``axis2``."""
    return diagonal(x, offset, axis1, axis2).sum(-1)
