"""Pooling layers with Keras semantics: channels-last data, TensorFlow's "same" padding.

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

_MAX = {2: F.max_pool2d, 3: F.max_pool3d}  # by lifted rank (1-D runs as 2-D)
_AVERAGE = {2: F.avg_pool2d, 3: F.avg_pool3d}


# -- settings and the shared channels-first pass -----------------------------------------------
def _set_pooling(layer: Layer, pool_size, strides, padding, data_format) -> None:
    """Checks and sets the window attributes of a pooling layer of rank ``layer.rank``."""
    layer.pool_size = _int_tuple("pool_size", pool_size, layer.rank)
    layer.strides = (
        layer.pool_size if strides is None else _int_tuple("strides", strides, layer.rank)
    )
    layer.padding = _choice("padding", padding, ("valid", "same"))
    layer.data_format = _choice("data_format", data_format, _DATA_FORMATS)
    layer.channels_last = layer.data_format == "channels_last"


def _positive_power(power: Any) -> float:
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not power > 0:
        raise ConfigError(f"expected a positive power, received power={power!r}")
    return float(power)


def _pool(layer: Layer, x: torch.Tensor, pool_fn: Any, **options: Any) -> torch.Tensor:
    """``pool_fn(x, kernel, strides, padding, **options)`` over ``layer``'s windows, lifted."""
    x = _to_channels_first(x, layer.rank, layer.channels_last)  # (N, C, *spatial), a view
    y = pool_fn(x, _lift(layer.pool_size), _lift(layer.strides), layer.padding, **options)
    return _from_channels_first(y, layer.rank, layer.channels_last)


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


# -- MaxPooling1D/2D/3D ------------------------------------------------------------------------
class MaxPooling1D(Layer):
    """Max over windows of ``pool_size`` steps of ``(N, steps, channels)``.

    Example:
        >>> MaxPooling1D(2)(torch.randn(2, 10, 4)).shape
        torch.Size([2, 5, 4])
    """

    rank = 1

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _max_pool)


class MaxPooling2D(Layer):
    """Max over ``pool_size`` windows of ``(N, height, width, channels)``.

    Example:
        >>> MaxPooling2D((2, 2), strides=2, padding="same")(torch.randn(2, 7, 7, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank = 2

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _max_pool)


class MaxPooling3D(Layer):
    """Max over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> MaxPooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _max_pool)


# -- AveragePooling1D/2D/3D --------------------------------------------------------------------
class AveragePooling1D(Layer):
    """Mean over windows of ``pool_size`` steps; "same" leaves padding out of the mean.

    Example:
        >>> AveragePooling1D(3, strides=1, padding="same")(torch.randn(2, 10, 4)).shape
        torch.Size([2, 10, 4])
    """

    rank = 1

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _average_pool)


class AveragePooling2D(Layer):
    """Mean over ``pool_size`` windows; "same" leaves padding out of the mean (TensorFlow).

    Example:
        >>> AveragePooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank = 2

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _average_pool)


class AveragePooling3D(Layer):
    """Mean over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> AveragePooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _average_pool)


# -- MinPooling1D/2D: -max(-x) -----------------------------------------------------------------
class MinPooling1D(Layer):
    """Min over windows of ``pool_size`` steps, ``-max(-x)``.

    Example:
        >>> MinPooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten().tolist()
        [1.0, 0.0]
    """

    rank = 1

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _min_pool)


class MinPooling2D(Layer):
    """Min over ``pool_size`` windows, ``-max(-x)``.

    Example:
        >>> MinPooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank = 2

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
        _set_pooling(self, pool_size, strides, padding, data_format)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _min_pool)


# -- LPPooling1D/2D ----------------------------------------------------------------------------
class LPPooling1D(Layer):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over windows of steps (``F.lp_pool``).

    Example:
        >>> LPPooling1D(power=2, pool_size=2)(torch.tensor([[[3.0], [4.0]]])).flatten().tolist()
        [5.0]
    """

    rank = 1

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
        super().__init__(input_shape=input_shape, name=name)
        _set_pooling(self, pool_size, strides, padding, data_format)
        self.power = _positive_power(power)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _lp_pool, power=self.power)


class LPPooling2D(Layer):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over ``pool_size`` windows.

    Example:
        >>> LPPooling2D(power=2, pool_size=2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """

    rank = 2

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
        super().__init__(input_shape=input_shape, name=name)
        _set_pooling(self, pool_size, strides, padding, data_format)
        self.power = _positive_power(power)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return _pool(self, x, _lp_pool, power=self.power)
