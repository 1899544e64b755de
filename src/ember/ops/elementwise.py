"""Element-wise ops with Keras' (numpy's) names: arithmetic, powers, logs, trigonometry,
comparisons, logic, ``where`` and ``clip``. Broadcasting and type promotion are torch's.

Example:
    >>> import numpy as np
    >>> from ember import ops
    >>> ops.add([1, 2], 0.5), ops.maximum(np.array([1, 5]), 3)
    (tensor([1.5000, 2.5000]), tensor([3, 5]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ember.ops.core import as_tensors, convert_to_tensor, floating


def _binary(function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], doc: str) -> Any:
    def op(x1: Any, x2: Any) -> torch.Tensor:
        return function(*as_tensors(x1, x2))

    op.__doc__ = doc
    return op


def _unary(function: Callable[[torch.Tensor], torch.Tensor], doc: str) -> Any:
    def op(x: Any) -> torch.Tensor:
        return function(convert_to_tensor(x))

    op.__doc__ = doc
    return op


def _unary_float(function: Callable[[torch.Tensor], torch.Tensor], doc: str) -> Any:
    """An op whose result is a float even for integer input (as Keras', e.g. ``exp``)."""

    def op(x: Any) -> torch.Tensor:
        return function(floating(x))

    op.__doc__ = doc
    return op


add = _binary(torch.add, "``x1 + x2``.")
subtract = _binary(torch.subtract, "``x1 - x2``.")
multiply = _binary(torch.multiply, "``x1 * x2``.")
divide = _binary(torch.true_divide, "``x1 / x2`` (a float for integers too).")
true_divide = divide
floor_divide = _binary(torch.floor_divide, "``x1 // x2``, rounded towards minus infinity.")
mod = _binary(torch.remainder, "``x1 % x2``, with the sign of ``x2`` (numpy's ``mod``).")
power = _binary(torch.pow, "``x1 ** x2``.")
maximum = _binary(torch.maximum, "The larger of ``x1`` and ``x2``, element by element.")
minimum = _binary(torch.minimum, "The smaller of ``x1`` and ``x2``, element by element.")
arctan2 = _binary(
    lambda y, x: torch.atan2(*(t if t.is_floating_point() else t.float() for t in (y, x))),
    "The angle of the point ``(x2, x1)`` in radians, in [-pi, pi].",
)

equal = _binary(torch.eq, "``x1 == x2`` (bool).")
not_equal = _binary(torch.ne, "``x1 != x2`` (bool).")
greater = _binary(torch.gt, "``x1 > x2`` (bool).")
greater_equal = _binary(torch.ge, "``x1 >= x2`` (bool).")
less = _binary(torch.lt, "``x1 < x2`` (bool).")
less_equal = _binary(torch.le, "``x1 <= x2`` (bool).")
logical_and = _binary(torch.logical_and, "``x1 and x2`` (bool), non-zero counting as true.")
logical_or = _binary(torch.logical_or, "``x1 or x2`` (bool), non-zero counting as true.")
logical_xor = _binary(torch.logical_xor, "``x1 xor x2`` (bool), non-zero counting as true.")
logical_not = _unary(torch.logical_not, "``not x`` (bool), non-zero counting as true.")

negative = _unary(torch.negative, "``-x``.")
abs = _unary(torch.abs, "``|x|``.")  # shadows the builtin: Keras' name
absolute = abs
square = _unary(torch.square, "``x ** 2``.")
sign = _unary(torch.sign, "-1, 0 or 1: the sign of ``x``.")
floor = _unary_float(torch.floor, "The largest integer <= ``x`` (a float).")
ceil = _unary_float(torch.ceil, "The smallest integer >= ``x`` (a float).")
sqrt = _unary_float(torch.sqrt, "The square root of ``x``.")
rsqrt = _unary_float(torch.rsqrt, "``1 / sqrt(x)``.")
reciprocal = _unary_float(torch.reciprocal, "``1 / x``.")
exp = _unary_float(torch.exp, "``e ** x``.")
expm1 = _unary_float(torch.expm1, "``e ** x - 1``, exact for small ``x``.")
log = _unary_float(torch.log, "The natural logarithm of ``x``.")
log1p = _unary_float(torch.log1p, "``log(1 + x)``, exact for small ``x``.")
log2 = _unary_float(torch.log2, "The base-2 logarithm of ``x``.")
log10 = _unary_float(torch.log10, "The base-10 logarithm of ``x``.")
sin = _unary_float(torch.sin, "The sine of ``x`` (radians).")
cos = _unary_float(torch.cos, "The cosine of ``x`` (radians).")
tan = _unary_float(torch.tan, "The tangent of ``x`` (radians).")
arcsin = _unary_float(torch.asin, "The inverse sine of ``x``.")
arccos = _unary_float(torch.acos, "The inverse cosine of ``x``.")
arctan = _unary_float(torch.atan, "The inverse tangent of ``x``.")
sinh = _unary_float(torch.sinh, "The hyperbolic sine of ``x``.")
cosh = _unary_float(torch.cosh, "The hyperbolic cosine of ``x``.")
tanh = _unary_float(torch.tanh, "The hyperbolic tangent of ``x``.")
erf = _unary_float(torch.erf, "The error function of ``x``.")
erfinv = _unary_float(torch.erfinv, "The inverse error function of ``x``.")
isnan = _unary(torch.isnan, "True where ``x`` is NaN.")
isinf = _unary(torch.isinf, "True where ``x`` is +inf or -inf.")
isfinite = _unary(torch.isfinite, "True where ``x`` is neither NaN nor infinite.")


def round(x: Any, decimals: int = 0) -> torch.Tensor:  # shadows the builtin: Keras' name
    """``x`` rounded to ``decimals`` places, halves to even (numpy's rule).

    Example:
        >>> round([0.5, 1.5, 2.25], decimals=1)
        tensor([0.5000, 1.5000, 2.2000])
    """
    tensor = convert_to_tensor(x)
    if not tensor.is_floating_point():
        return tensor
    return torch.round(tensor, decimals=decimals)


def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """``x`` limited to ``[x_min, x_max]`` (numbers or arrays that broadcast).

    Example:
        >>> clip([-2.0, 0.5, 3.0], -1, 1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    tensor, low, high = as_tensors(x, x_min, x_max)
    return torch.clamp(tensor, low.to(tensor.dtype), high.to(tensor.dtype))


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; with neither, the indices of the true
    elements as one ``(axes, count)`` tensor (one row per axis, as Keras' torch backend).

    Example:
        >>> where([True, False], 1.0, [5.0, 6.0])
        tensor([1., 6.])
        >>> where([[True, False], [True, True]])
        tensor([[0, 1, 1],
                [0, 0, 1]])
    """
    if x1 is None and x2 is None:
        return torch.stack(torch.nonzero(convert_to_tensor(condition), as_tuple=True))
    condition, x1, x2 = as_tensors(condition, x1, x2)
    return torch.where(condition.bool(), x1, x2)


def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> torch.Tensor:
    """``x`` with NaN replaced by ``nan`` and infinities by ``posinf`` / ``neginf`` (the dtype's
    largest and smallest values by default).

    Example:
        >>> import numpy as np
        >>> nan_to_num(np.array([np.nan, np.inf, 1.0]), posinf=9.0)
        tensor([0., 9., 1.], dtype=torch.float64)
    """
    return torch.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)
