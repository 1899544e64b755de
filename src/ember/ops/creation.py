"""Ops that make new tensors: ``arange``, ``linspace``, ``ones``, ``zeros``, ``full``, ``eye``
and the ``*_like`` ones. The default dtype is Keras': float32, int32 for integer ranges.

Example:
    >>> from ember import ops
    >>> ops.arange(3), ops.ones((1, 2))
    (tensor([0, 1, 2], dtype=torch.int32), tensor([[1., 1.]]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ember.ops.core import convert_to_tensor, to_torch_dtype

Shape = int | Sequence[int]


def _shape(shape: Shape) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _float_or(dtype: Any) -> torch.dtype:
    return to_torch_dtype(dtype) or torch.float32


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> torch.Tensor:
    """``start, start + step, ...`` below ``stop`` (``arange(n)`` is ``0 .. n - 1``); int32
    when every bound is an integer, else float32.

    Example:
        >>> arange(1, 2, 0.25)
        tensor([1.0000, 1.2500, 1.5000, 1.7500])
    """
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    integral = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, stop, step))
    default = torch.int32 if integral else torch.float32
    return torch.arange(start, stop, step, dtype=to_torch_dtype(dtype) or default)


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` left out when not
    ``endpoint``); with ``retstep``, ``(values, step)``.

    Example:
        >>> linspace(0, 1, 4, endpoint=False)
        tensor([0.0000, 0.2500, 0.5000, 0.7500])
    """
    low, high = convert_to_tensor(start).double(), convert_to_tensor(stop).double()
    divisions = (num - 1 if endpoint else num) or 1
    step = (high - low) / divisions
    fractions = torch.arange(num, dtype=torch.float64).reshape(-1, *([1] * low.ndim))
    values = low + fractions * step  # (num, *bounds' shape)
    if endpoint and num > 1:
        values[-1] = high
    values = torch.movedim(values, 0, axis).to(_float_or(dtype))
    return (values, step.to(values.dtype)) if retstep else values


def ones(shape: Shape, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones (float32 by default)."""
    return torch.ones(_shape(shape), dtype=_float_or(dtype))


def zeros(shape: Shape, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros (float32 by default)."""
    return torch.zeros(_shape(shape), dtype=_float_or(dtype))


def full(shape: Shape, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (float32 by default)."""
    return torch.full(_shape(shape), fill_value, dtype=_float_or(dtype))


def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Ones with the shape (and by default the dtype and device) of ``x``."""
    return torch.ones_like(convert_to_tensor(x), dtype=to_torch_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Zeros with the shape (and by default the dtype and device) of ``x``."""
    return torch.zeros_like(convert_to_tensor(x), dtype=to_torch_dtype(dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """``fill_value`` with the shape (and by default the dtype and device) of ``x``."""
    return torch.full_like(convert_to_tensor(x), fill_value, dtype=to_torch_dtype(dtype))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """An ``N`` x ``M`` matrix with ones on diagonal ``k`` (float32 by default).

    Example:
        >>> eye(2, 3, k=1)
        tensor([[0., 1., 0.],
                [0., 0., 1.]])
    """
    columns = N if M is None else M
    ones_ = torch.ones(N, columns, dtype=_float_or(dtype))
    return ones_.tril(k).triu(k)


def identity(n: int, dtype: Any = None) -> torch.Tensor:
    """The ``n`` x ``n`` identity matrix (float32 by default)."""
    return torch.eye(n, dtype=_float_or(dtype))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """An ``N`` x ``M`` matrix with ones at and below diagonal ``k`` (float32 by default)."""
    columns = N if M is None else M
    return torch.ones(N, columns, dtype=_float_or(dtype)).tril(k)
