"""Pooling layers with Keras semantics: channels-last data, TensorFlow's "same" padding.

One base, :class:`_Pooling` (Keras' ``BasePooling``), holds the arguments and the computation;
each public class only names its rank and ``pool_mode`` (max, average, min or lp).
Like the conv layers, ``call`` moves the channel axis with a free view, pools with PyTorch's
channels-last kernels, and moves it back: no copy. "same" average pooling leaves the padding out
of each window's mean, as TensorFlow does. Global pooling is in :mod:`ember.layers.global_pooling`.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.MaxPooling2D(2)(torch.randn(4, 28, 28, 8)).shape
    torch.Size([4, 14, 14, 8])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember.errors import ConfigError
from ember.layers.base import Layer
from ember.layers.conv import (
    _DATA_FORMATS,
    _choice,
    _expect_rank,
    _from_channels_first,
    _int_tuple,
    _lift,
    _pad,
    _to_channels_first,
)
from ember.layers.registry import LAYERS

_MAX = {2: F.max_pool2d, 3: F.max_pool3d}  # by lifted rank (1-D runs as 2-D)
_AVERAGE = {2: F.avg_pool2d, 3: F.avg_pool3d}


# -- the pooling ops on (N, C, *spatial) with lifted kernel and strides -------------------------
def _max_pool(x: torch.Tensor, kernel: tuple, strides: tuple, padding: str) -> torch.Tensor:
    ones = (1,) * len(kernel)
    x, pads = _pad(x, padding, kernel, strides, ones, value=float("-inf"))
    return _MAX[len(kernel)](x, kernel, strides, pads)


def _min_pool(x: torch.Tensor, kernel: tuple, strides: tuple, padding: str) -> torch.Tensor:
    return -_max_pool(-x, kernel, strides, padding)


def _average_pool(x: torch.Tensor, kernel: tuple, strides: tuple, padding: str) -> torch.Tensor:
    average, ones = _AVERAGE[len(kernel)], (1,) * len(kernel)
    padded, pads = _pad(x, padding, kernel, strides, ones)
    if padded is x:  # valid, or symmetric "same" done by the op, padding left out of the mean
        return average(x, kernel, strides, pads, count_include_pad=False)
    # Asymmetric "same": mean over the zero-padded input / the share of real pixels per window.
    real = _pad(x.new_ones((1, 1, *x.shape[2:])), padding, kernel, strides, ones)[0]
    return average(padded, kernel, strides) / average(real, kernel, strides)


def _lp_pool(
    x: torch.Tensor, kernel: tuple, strides: tuple, padding: str, power: float
) -> torch.Tensor:
    # Zero padding adds nothing to a window's sum of |x|^p.
    x, _ = _pad(x, padding, kernel, strides, (1,) * len(kernel), explicit=True)
    return F.lp_pool2d(x, power, kernel, strides)


_POOLS = {"max": _max_pool, "average": _average_pool, "min": _min_pool, "lp": _lp_pool}


# -- the base: arguments, shape check and the channels-first pass -------------------------------
class _Pooling(Layer):
    """``pool_mode`` pooling over ``pool_size`` windows of ``rank`` axes (set by subclasses)."""

    rank: int  # 1, 2 or 3 spatial axes
    pool_mode: str  # a key of _POOLS

    def __init__(
        self,
        pool_size: int | tuple[int, ...] = 2,
        strides: int | tuple[int, ...] | None = None,
        padding: str = "valid",
        data_format: str = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.pool_size = _int_tuple("pool_size", pool_size, self.rank)
        self.strides = (
            self.pool_size if strides is None else _int_tuple("strides", strides, self.rank)
        )
        self.padding = _choice("padding", padding, ("valid", "same"))
        self.data_format = _choice("data_format", data_format, _DATA_FORMATS)
        self.channels_last = self.data_format == "channels_last"

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = _to_channels_first(x, self.rank, self.channels_last)  # (N, C, *spatial), a view
        kernel, strides = _lift(self.pool_size), _lift(self.strides)
        y = _POOLS[self.pool_mode](x, kernel, strides, self.padding, **self._pool_options())
        return _from_channels_first(y, self.rank, self.channels_last)

    def _pool_options(self) -> dict[str, Any]:
        """Keyword arguments the pooling op takes besides the windows (LP pooling's power)."""
        return {}


class _LPPooling(_Pooling):
    """LP pooling takes a ``power`` first (the only argument the other modes lack)."""

    pool_mode = "lp"

    def __init__(
        self,
        power: float = 2.0,
        pool_size: int | tuple[int, ...] = 2,
        strides: int | tuple[int, ...] | None = None,
        padding: str = "valid",
        data_format: str = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(pool_size, strides, padding, data_format, input_shape, name)
        # Not checks.positive_number: this message says "a positive power", not "a positive number".
        if isinstance(power, bool) or not isinstance(power, (int, float)) or not power > 0:
            raise ConfigError(f"expected a positive power, received power={power!r}")
        self.power = float(power)

    def _pool_options(self) -> dict[str, Any]:
        return {"power": self.power}


# -- MaxPooling1D/2D/3D ------------------------------------------------------------------------
@LAYERS.register("MaxPooling1D", "MaxPool1D")
class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of ``(N, steps, channels)``.

    Example:
        >>> MaxPooling1D(2)(torch.randn(2, 10, 4)).shape
        torch.Size([2, 5, 4])
    """

    rank, pool_mode = 1, "max"


@LAYERS.register("MaxPooling2D", "MaxPool2D")
class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(N, height, width, channels)``.

    Example:
        >>> MaxPooling2D((2, 2), strides=2, padding="same")(torch.randn(2, 7, 7, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank, pool_mode = 2, "max"


@LAYERS.register("MaxPooling3D", "MaxPool3D")
class MaxPooling3D(_Pooling):
    """Max over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> MaxPooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank, pool_mode = 3, "max"


# -- AveragePooling1D/2D/3D --------------------------------------------------------------------
@LAYERS.register("AveragePooling1D", "AvgPool1D")
class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps; "same" leaves padding out of the mean.

    Example:
        >>> AveragePooling1D(3, strides=1, padding="same")(torch.randn(2, 10, 4)).shape
        torch.Size([2, 10, 4])
    """

    rank, pool_mode = 1, "average"


@LAYERS.register("AveragePooling2D", "AvgPool2D")
class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows; "same" leaves padding out of the mean (TensorFlow).

    Example:
        >>> AveragePooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank, pool_mode = 2, "average"


@LAYERS.register("AveragePooling3D", "AvgPool3D")
class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> AveragePooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank, pool_mode = 3, "average"


# -- MinPooling1D/2D: -max(-x) -----------------------------------------------------------------
@LAYERS.register()
class MinPooling1D(_Pooling):
    """Min over windows of ``pool_size`` steps, ``-max(-x)``.

    Example:
        >>> MinPooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten().tolist()
        [1.0, 0.0]
    """

    rank, pool_mode = 1, "min"


@LAYERS.register()
class MinPooling2D(_Pooling):
    """Min over ``pool_size`` windows, ``-max(-x)``.

    Example:
        >>> MinPooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank, pool_mode = 2, "min"


# -- LPPooling1D/2D ----------------------------------------------------------------------------
@LAYERS.register()
class LPPooling1D(_LPPooling):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over windows of steps (``F.lp_pool``).

    Example:
        >>> LPPooling1D(power=2, pool_size=2)(torch.tensor([[[3.0], [4.0]]])).flatten().tolist()
        [5.0]
    """

    rank = 1


@LAYERS.register()
class LPPooling2D(_LPPooling):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over ``pool_size`` windows.

    Example:
        >>> LPPooling2D(power=2, pool_size=2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank = 2


# Keras' short aliases (registered above under these names too).
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
