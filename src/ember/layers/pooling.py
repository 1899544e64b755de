"""Pooling layers with Keras semantics: channels-last data, TensorFlow's "same" padding.

Like the conv layers, ``call`` moves the channel axis with a free view, pools with PyTorch's
channels-last kernels, and moves it back: no copy. "same" average pooling leaves the padding out
of each window's mean, as TensorFlow does.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.MaxPooling2D(2)(torch.randn(4, 28, 28, 8)).shape
    torch.Size([4, 14, 14, 8])
"""

from __future__ import annotations

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


class _Pooling(Layer):
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
        y = self._pool(x, _lift(self.pool_size), _lift(self.strides))
        return _from_channels_first(y, self.rank, self.channels_last)

    def _pool(self, x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
        raise NotImplementedError


class _MaxPooling(_Pooling):
    def _pool(self, x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
        ones = (1,) * len(kernel)
        x, padding = _pad(x, self.padding, kernel, strides, ones, value=float("-inf"))
        return _MAX[len(kernel)](x, kernel, strides, padding)


class _MinPooling(_MaxPooling):
    def _pool(self, x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
        return -super()._pool(-x, kernel, strides)


class _AveragePooling(_Pooling):
    def _pool(self, x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
        average, ones = _AVERAGE[len(kernel)], (1,) * len(kernel)
        padded, padding = _pad(x, self.padding, kernel, strides, ones)
        if padded is x:  # valid, or symmetric "same" done by the op, padding left out of the mean
            return average(x, kernel, strides, padding, count_include_pad=False)
        # Asymmetric "same": mean over the zero-padded input / the share of real pixels per window.
        real = _pad(x.new_ones((1, 1, *x.shape[2:])), self.padding, kernel, strides, ones)[0]
        return average(padded, kernel, strides) / average(real, kernel, strides)


class _LPPooling(_Pooling):
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
        if isinstance(power, bool) or not isinstance(power, (int, float)) or not power > 0:
            raise ConfigError(f"expected a positive power, received power={power!r}")
        self.power = float(power)

    def _pool(self, x: torch.Tensor, kernel: tuple, strides: tuple) -> torch.Tensor:
        # Zero padding adds nothing to a window's sum of |x|^p.
        x, _ = _pad(x, self.padding, kernel, strides, (1,) * len(kernel), explicit=True)
        return F.lp_pool2d(x, self.power, kernel, strides)


class MaxPooling1D(_MaxPooling):
    """Max over windows of ``pool_size`` steps of ``(N, steps, channels)``.

    Example:
        >>> MaxPooling1D(2)(torch.randn(2, 10, 4)).shape
        torch.Size([2, 5, 4])
    """

    rank = 1


class MaxPooling2D(_MaxPooling):
    """Max over ``pool_size`` windows of ``(N, height, width, channels)``.

    Example:
        >>> MaxPooling2D((2, 2), strides=2, padding="same")(torch.randn(2, 7, 7, 4)).shape
        torch.Size([2, 4, 4, 4])
    """


class MaxPooling3D(_MaxPooling):
    """Max over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> MaxPooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3


class AveragePooling1D(_AveragePooling):
    """Mean over windows of ``pool_size`` steps; "same" leaves padding out of the mean.

    Example:
        >>> AveragePooling1D(3, strides=1, padding="same")(torch.randn(2, 10, 4)).shape
        torch.Size([2, 10, 4])
    """

    rank = 1


class AveragePooling2D(_AveragePooling):
    """Mean over ``pool_size`` windows; "same" leaves padding out of the mean (TensorFlow).

    Example:
        >>> AveragePooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """


class AveragePooling3D(_AveragePooling):
    """Mean over ``pool_size`` windows of ``(N, depth, height, width, channels)``.

    Example:
        >>> AveragePooling3D(2)(torch.randn(1, 4, 4, 4, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    rank = 3


class MinPooling1D(_MinPooling):
    """Min over windows of ``pool_size`` steps, ``-max(-x)``.

    Example:
        >>> MinPooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]])).flatten().tolist()
        [1.0, 0.0]
    """

    rank = 1


class MinPooling2D(_MinPooling):
    """Min over ``pool_size`` windows, ``-max(-x)``.

    Example:
        >>> MinPooling2D(2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """


class LPPooling1D(_LPPooling):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over windows of steps (``F.lp_pool``).

    Example:
        >>> LPPooling1D(power=2, pool_size=2)(torch.tensor([[[3.0], [4.0]]])).flatten().tolist()
        [5.0]
    """

    rank = 1


class LPPooling2D(_LPPooling):
    """Power-average pooling ``(sum |x|^p)^(1/p)`` over ``pool_size`` windows.

    Example:
        >>> LPPooling2D(power=2, pool_size=2)(torch.randn(2, 8, 8, 4)).shape
        torch.Size([2, 4, 4, 4])
    """


class _GlobalPooling(Layer):
    rank = 2

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.data_format = _choice("data_format", data_format, _DATA_FORMATS)
        self.channels_last = self.data_format == "channels_last"
        self.keepdims = keepdims

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def _spatial_dims(self) -> tuple[int, ...]:
        first = 1 if self.channels_last else 2
        return tuple(range(first, first + self.rank))


class _GlobalMaxPooling(_GlobalPooling):
    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(self._spatial_dims(), keepdim=self.keepdims)


class _GlobalAveragePooling(_GlobalPooling):
    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(self._spatial_dims(), keepdim=self.keepdims)


class GlobalMaxPooling1D(_GlobalMaxPooling):
    """Max over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalMaxPooling1D()``."""

    rank = 1


class GlobalMaxPooling2D(_GlobalMaxPooling):
    """Max over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalMaxPooling2D()(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 16])
    """


class GlobalMaxPooling3D(_GlobalMaxPooling):
    """Max over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank = 3


class GlobalAveragePooling1D(_GlobalAveragePooling):
    """Mean over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalAveragePooling1D()``."""

    rank = 1


class GlobalAveragePooling2D(_GlobalAveragePooling):
    """Mean over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalAveragePooling2D(keepdims=True)(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 1, 1, 16])
    """


class GlobalAveragePooling3D(_GlobalAveragePooling):
    """Mean over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank = 3
