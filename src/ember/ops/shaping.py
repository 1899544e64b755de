"""Ops that move values around without computing new ones: reshape, transpose, join, split,
repeat, flip, roll, pad and the triangles of a matrix (Keras' numpy-style names).

Example:
    >>> import numpy as np
    >>> from ember import ops
    >>> ops.expand_dims(np.zeros((2, 3)), axis=(0, -1)).shape
    torch.Size([1, 2, 3, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ember.errors import ConfigError
from ember.ops.core import as_tensors, convert_to_tensor


def reshape(x: Any, newshape: int | Sequence[int]) -> torch.Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1). Example: ``reshape(x, (-1, 2))``."""
    shape = (newshape,) if isinstance(newshape, int) else tuple(newshape)
    return torch.reshape(convert_to_tensor(x), shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    """``x`` with its axes permuted to ``axes`` (reversed when None, as numpy)."""
    tensor = convert_to_tensor(x)
    order = tuple(reversed(range(tensor.ndim))) if axes is None else tuple(axes)
    return tensor.permute(order)


def expand_dims(x: Any, axis: int | Sequence[int]) -> torch.Tensor:
    """``x`` with new axes of size 1 at ``axis`` (positions in the result)."""
    tensor = convert_to_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    rank = tensor.ndim + len(axes)
    for position in sorted(a % rank for a in axes):
        tensor = tensor.unsqueeze(position)
    return tensor


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> torch.Tensor:
    """``x`` without its axes of size 1 (only those in ``axis`` when given)."""
    tensor = convert_to_tensor(x)
    if axis is None:
        return torch.squeeze(tensor)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if tensor.shape[a] != 1:
            raise ConfigError(
                f"squeeze can only drop axes of size 1, received axis={axis!r} for a tensor of "
                f"shape {tuple(tensor.shape)}. Fix: pick axes of size 1, or axis=None."
            )
    return torch.squeeze(tensor, dim=axes)


def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors of ``xs`` joined along an existing ``axis``."""
    return torch.cat(as_tensors(*xs), dim=axis)


def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    """The tensors of ``x`` (one shape) joined along a new ``axis``."""
    return torch.stack(as_tensors(*x), dim=axis)


def vstack(xs: Sequence[Any]) -> torch.Tensor:
    """The tensors of ``xs`` joined along their first axis (vectors become rows)."""
    return torch.vstack(as_tensors(*xs))


def hstack(xs: Sequence[Any]) -> torch.Tensor:
    """The tensors of ``xs`` joined along their second axis (the first for vectors)."""
    return torch.hstack(as_tensors(*xs))


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[torch.Tensor]:
    """``x`` cut along ``axis``: into that many equal parts (an int), or at those indices.

    Example:
        >>> [part.tolist() for part in split([1, 2, 3, 4, 5], [1, 3])]
        [[1], [2, 3], [4, 5]]
    """
    tensor = convert_to_tensor(x)
    if isinstance(indices_or_sections, int) and tensor.shape[axis] % indices_or_sections:
        raise ConfigError(
            f"split cannot cut an axis of size {tensor.shape[axis]} into "
            f"indices_or_sections={indices_or_sections} equal parts. Fix: pass a divisor of "
            f"{tensor.shape[axis]}, or a list of split indices."
        )
    sections = (
        indices_or_sections if isinstance(indices_or_sections, int) else list(indices_or_sections)
    )
    return list(torch.tensor_split(tensor, sections, dim=axis))


def tile(x: Any, repeats: int | Sequence[int]) -> torch.Tensor:
    """``x`` repeated ``repeats`` times along each axis, as numpy's ``tile``."""
    counts = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return torch.tile(convert_to_tensor(x), counts)


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> torch.Tensor:
    """Each element of ``x`` repeated along ``axis`` (of the flattened ``x`` when None).

    Example:
        >>> repeat([[1, 2]], 2, axis=1)
        tensor([[1, 1, 2, 2]], dtype=torch.int32)
    """
    tensor = convert_to_tensor(x)
    if axis is None:
        tensor, axis = tensor.reshape(-1), 0
    if not isinstance(repeats, int):
        repeats = torch.as_tensor(list(repeats), device=tensor.device)
    return torch.repeat_interleave(tensor, repeats, dim=axis)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> torch.Tensor:
    """``x`` reversed along ``axis`` (every axis when None)."""
    tensor = convert_to_tensor(x)
    if axis is None:
        axis = tuple(range(tensor.ndim))
    return torch.flip(tensor, dims=(axis,) if isinstance(axis, int) else tuple(axis))


def roll(x: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Any:
    """``x`` shifted by ``shift`` along ``axis``, wrapping around (flattened when None)."""
    tensor = convert_to_tensor(x)
    if axis is None:
        return torch.roll(tensor.reshape(-1), shift).reshape(tensor.shape)
    return torch.roll(tensor, shift, dims=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> torch.Tensor:
    """``x`` broadcast to ``shape`` (a view, not a copy)."""
    return torch.broadcast_to(convert_to_tensor(x), tuple(shape))


def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    """``x`` with axes ``axis1`` and ``axis2`` exchanged."""
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Any:
    """``x`` with the axes ``source`` moved to positions ``destination``."""
    return torch.moveaxis(convert_to_tensor(x), source, destination)


def ravel(x: Any) -> torch.Tensor:
    """``x`` flattened to one axis."""
    return convert_to_tensor(x).reshape(-1)


def tril(x: Any, k: int = 0) -> torch.Tensor:
    """The lower triangle of the last two axes, up to diagonal ``k``; zeros above."""
    return torch.tril(convert_to_tensor(x), diagonal=k)


def triu(x: Any, k: int = 0) -> torch.Tensor:
    """The upper triangle of the last two axes, from diagonal ``k``; zeros below."""
    return torch.triu(convert_to_tensor(x), diagonal=k)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def pad(
    x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
) -> torch.Tensor:
    """``x`` padded as numpy's ``pad``: ``pad_width`` is ``((before, after), ...)`` per axis
    (or one pair, or one number, for every axis).

    ``mode`` is ``"constant"`` (``constant_values``, default 0), ``"edge"`` (the border value
    repeated), ``"reflect"`` (mirrored without the border) or ``"symmetric"`` (with it).

    Example:
        >>> pad([1, 2, 3], (2, 1), mode="reflect")
        tensor([3, 2, 1, 2, 3, 2], dtype=torch.int32)
    """
    tensor = convert_to_tensor(x)
    if mode not in _PAD_MODES:
        raise ConfigError(f"expected mode in {_PAD_MODES}, received mode={mode!r}")
    widths = torch.as_tensor(pad_width, dtype=torch.int64).broadcast_to((tensor.ndim, 2)).tolist()
    if mode == "constant":
        flat = [size for before, after in reversed(widths) for size in (before, after)]
        value = 0 if constant_values is None else constant_values
        return torch.nn.functional.pad(tensor, flat, value=value)
    if constant_values is not None:
        raise ConfigError(
            f"constant_values only applies to mode='constant', received mode={mode!r}. "
            f"Fix: drop constant_values."
        )
    for axis, (before, after) in enumerate(widths):
        size = tensor.shape[axis]
        positions = torch.arange(-before, size + after, device=tensor.device)
        index = _mirror(positions, size, mode)
        tensor = tensor.index_select(axis, index)
    return tensor


def _mirror(positions: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """Where each position outside ``[0, size)`` reads from, for a non-constant pad."""
    if mode == "edge" or (mode == "reflect" and size == 1):
        return positions.clamp(0, size - 1)
    if mode == "reflect":  # period 2 * (size - 1): ..., 2, 1, [0, 1, ..., size - 1], size - 2, ...
        period = 2 * (size - 1)
        folded = positions.remainder(period)
        return torch.where(folded < size, folded, period - folded)
    period = 2 * size  # symmetric: ..., 1, 0, [0, 1, ..., size - 1], size - 1, ...
    folded = positions.remainder(period)
    return torch.where(folded < size, folded, period - 1 - folded)
