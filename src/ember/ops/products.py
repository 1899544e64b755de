"""Products of tensors: ``matmul``, ``dot``, ``einsum``, ``tensordot``, ``outer`` (numpy's
semantics; mixed dtypes are promoted first, which torch's products do not do on their own).

Example:
    >>> import numpy as np
    >>> from ember import ops
    >>> ops.matmul(np.ones((2, 3)), np.ones((3,), dtype="int32"))
    tensor([3., 3.], dtype=torch.float64)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ember.ops.core import promoted


def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """The matrix product, batched over leading axes (``x1 @ x2``)."""
    a, b = promoted(x1, x2)
    return torch.matmul(a, b)


def dot(x1: Any, x2: Any) -> torch.Tensor:
    """numpy's ``dot``: a product with a scalar, the inner product of vectors, else the sum over
    the last axis of ``x1`` and the second-to-last of ``x2`` (the last, for a vector).

    Example:
        >>> dot([1, 2], [3, 4])
        tensor(11, dtype=torch.int32)
    """
    a, b = promoted(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.tensordot(a, b, dims=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)`` (keyword options ignored)."""
    return torch.einsum(subscripts, *promoted(*operands))


def tensordot(x1: Any, x2: Any, axes: int | Sequence[Any] = 2) -> torch.Tensor:
    """The sum over the last ``axes`` axes of ``x1`` and the first of ``x2`` (or over the
    pairs of axes ``axes = (x1's, x2's)``)."""
    a, b = promoted(x1, x2)
    if not isinstance(axes, int):
        axes = [list(side) if isinstance(side, Sequence) else [side] for side in axes]
    return torch.tensordot(a, b, dims=axes)


def outer(x1: Any, x2: Any) -> torch.Tensor:
    """Every product ``x1[i] * x2[j]`` of the flattened inputs, as a matrix."""
    a, b = promoted(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))
