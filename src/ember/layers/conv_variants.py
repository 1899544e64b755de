"""Convolution variants: depthwise, depthwise-separable and transposed ("de-") convolutions.

They share the geometry, "same" padding and channels-last views of :mod:`ember.layers.conv`.
Their ``depthwise_constraint``/``pointwise_constraint`` see the kernels in Keras' layouts
(depthwise ``(rows, cols, channels, depth_multiplier)``, pointwise ``(1, 1, in, filters)``),
as ``kernel_constraint`` does (:mod:`ember.layers.constraints`).

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.SeparableConv2D(8, 3, padding="same")(torch.randn(2, 9, 9, 4)).shape
    torch.Size([2, 9, 9, 8])
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError
from ember.layers import constraints, initializers, regularizers
from ember.layers.base import Layer
from ember.layers.conv import (
    _convolve,
    _depthwise_kernel,
    _expect_rank,
    _from_channels_first,
    _int_tuple,
    _lift,
    _memory_format,
    _new_kernel,
    _set_geometry,
    _to_channels_first,
)
from ember.layers.core import (
    _init_kernel_and_bias,
    _kernel_and_bias_regularization,
    _new_parameter,
    _regularization,
)
from ember.layers.registry import LAYERS

_CONV_TRANSPOSE = {2: F.conv_transpose2d, 3: F.conv_transpose3d}


class _InKerasLayout:
    """``constraint`` applied to a kernel seen in Keras' layout (``keras_view(kernel)``, a
    view); returns the projected kernel in its own layout. The engine applies it after each
    optimizer step as the kernel's ``constraint`` (see ``Layer.add_weight``)."""

    def __init__(self, constraint: Any, keras_view: Any) -> None:
        self.constraint, self.keras_view = constraint, keras_view

    def __call__(self, kernel: torch.Tensor) -> torch.Tensor:
        projected = kernel.clone()
        view = self.keras_view(projected)
        view.copy_(self.constraint(view))
        return projected


def _keras_depthwise(kernel: torch.Tensor, multiplier: int) -> torch.Tensor:
    """torch's grouped (channels * multiplier, 1, rows, cols) as Keras' depthwise kernel
    (rows, cols, channels, multiplier), a view."""
    rows, cols = kernel.shape[2:]
    return kernel.view(-1, multiplier, rows, cols).permute(2, 3, 0, 1)


def _keras_pointwise(kernel: torch.Tensor) -> torch.Tensor:
    """torch's (filters, in, 1, 1) as Keras' pointwise kernel (1, 1, in, filters), a view."""
    return kernel.permute(2, 3, 1, 0)


def _constrain(kernel: torch.Tensor, constraint: Any, keras_view: Any) -> None:
    if constraint is not None:
        kernel.constraint = _InKerasLayout(constraint, keras_view)


@LAYERS.register()
class DepthwiseConv2D(Layer):
    """Convolves each input channel with its own ``depth_multiplier`` filters (groups = channels).

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2, padding="same")(torch.randn(2, 9, 9, 4)).shape
        torch.Size([2, 9, 9, 8])
    """

    rank = 2

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str = "channels_last",
        dilation_rate: int | tuple[int, int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
    ) -> None:
        super().__init__(activation=activation, input_shape=input_shape, name=name)
        _set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        self.depth_multiplier = checks.positive_int("depth_multiplier", depth_multiplier)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)  # the engine reads it by name
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        channels = _expect_rank(self, input_shape)
        multiplier = self.depth_multiplier
        self.weight = _depthwise_kernel(self, channels, multiplier, self.depthwise_initializer)
        depthwise_view = functools.partial(_keras_depthwise, multiplier=multiplier)
        _constrain(self.weight, self.depthwise_constraint, depthwise_view)
        if self.use_bias:
            self.bias = _new_parameter((channels * multiplier,), self.bias_initializer)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = _to_channels_first(x, self.rank, self.channels_last)
        y = _convolve(self, x, self.weight, self.bias, groups=x.shape[1])
        return _from_channels_first(y, self.rank, self.channels_last)

    def regularization_loss(self) -> torch.Tensor | None:
        return _regularization(
            (self.depthwise_regularizer, self.weight), (self.bias_regularizer, self.bias)
        )


@LAYERS.register()
class SeparableConv2D(Layer):
    """A depthwise convolution (strided, padded) followed by a 1x1 pointwise one to ``filters``.

    Example:
        >>> SeparableConv2D(16, 3, padding="same")(torch.randn(2, 9, 9, 4)).shape
        torch.Size([2, 9, 9, 16])
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str = "channels_last",
        dilation_rate: int | tuple[int, int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
    ) -> None:
        super().__init__(activation=activation, input_shape=input_shape, name=name)
        self.filters = checks.positive_int("filters", filters)
        _set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        self.depth_multiplier = checks.positive_int("depth_multiplier", depth_multiplier)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)  # the engine reads it by name
        for parameter in ("depthwise_weight", "pointwise_weight", "bias"):
            self.register_parameter(parameter, None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        channels = _expect_rank(self, input_shape)
        multiplier = self.depth_multiplier
        self.depthwise_weight = _depthwise_kernel(
            self, channels, multiplier, self.depthwise_initializer
        )
        pointwise_shape = (self.filters, channels * multiplier, 1, 1)
        self.pointwise_weight = _new_kernel(self, pointwise_shape, self.pointwise_initializer)
        depthwise_view = functools.partial(_keras_depthwise, multiplier=multiplier)
        _constrain(self.depthwise_weight, self.depthwise_constraint, depthwise_view)
        _constrain(self.pointwise_weight, self.pointwise_constraint, _keras_pointwise)
        if self.use_bias:
            self.bias = _new_parameter((self.filters,), self.bias_initializer)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = _to_channels_first(x, self.rank, self.channels_last)
        depthwise = _convolve(self, x, self.depthwise_weight, None, groups=x.shape[1])
        y = F.conv2d(depthwise, self.pointwise_weight, self.bias)  # 1x1: no padding, stride 1
        return _from_channels_first(y, self.rank, self.channels_last)

    def regularization_loss(self) -> torch.Tensor | None:
        return _regularization(
            (self.depthwise_regularizer, self.depthwise_weight),
            (self.pointwise_regularizer, self.pointwise_weight),
            (self.bias_regularizer, self.bias),
        )


@LAYERS.register()
class Conv2DTranspose(Layer):
    """Transposed ("de-") convolution; ``padding="same"`` gives ``input * strides`` outputs.

    Output sizes and alignment follow Keras/TensorFlow, including ``output_padding``.

    Example:
        >>> Conv2DTranspose(8, 3, strides=2, padding="same")(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 14, 14, 8])
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        output_padding: int | tuple[int, int] | None = None,
        data_format: str = "channels_last",
        dilation_rate: int | tuple[int, int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
    ) -> None:
        super().__init__(activation=activation, input_shape=input_shape, name=name)
        self.filters = checks.positive_int("filters", filters)
        _set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
        if output_padding is not None:
            output_padding = _int_tuple("output_padding", output_padding, self.rank, minimum=0)
            if any(p >= s for p, s in zip(output_padding, self.strides, strict=True)):
                raise ConfigError(
                    f"output_padding must be smaller than strides, received "
                    f"output_padding={output_padding}, strides={self.strides}"
                )
        self.output_padding = output_padding
        self.use_bias = use_bias
        _init_kernel_and_bias(
            self,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )

    def build(self, input_shape: tuple[int, ...]) -> None:
        channels = _expect_rank(self, input_shape)
        self.weight = _new_kernel(
            self, (channels, self.filters, *self.kernel_size), self.kernel_initializer
        )
        if self.use_bias:
            self.bias = _new_parameter((self.filters,), self.bias_initializer)

    def _crop(self, size: int, kernel: int, stride: int, dilation: int, extra: int | None):
        """(torch padding, torch output_padding, output size) for one axis, TensorFlow-aligned."""
        dilated = (kernel - 1) * dilation + 1
        full = (size - 1) * stride + dilated  # every position the kernel touches
        if extra is not None:  # Keras' formula with explicit output_padding
            target = full - 2 * (dilated // 2 if self.padding == "same" else 0) + extra
        elif self.padding == "same":
            target = size * stride
        else:
            target = size * stride + max(dilated - stride, 0)
        before = max(full - target, 0) // 2 if self.padding == "same" else 0
        return before, max(target - (full - 2 * before), 0), target

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = _to_channels_first(x, self.rank, self.channels_last)
        strides, dilation = _lift(self.strides), _lift(self.dilation_rate)
        extras = (
            _lift(self.output_padding, fill=0) if self.output_padding else (None,) * len(strides)
        )
        kernel = _lift(self.kernel_size)
        crops = list(map(self._crop, x.shape[2:], kernel, strides, dilation, extras))
        padding, output_padding, target = (tuple(column) for column in zip(*crops, strict=True))
        weight = self.weight.unsqueeze(2) if self.rank == 1 else self.weight
        transpose = _CONV_TRANSPOSE[len(kernel)]
        y = transpose(x, weight, self.bias, strides, padding, output_padding, 1, dilation)
        if tuple(y.shape[2:]) != target:  # TensorFlow drops the odd extra pixel at the end
            for axis, size in enumerate(target, start=2):
                y = y.narrow(axis, 0, size)
            y = y.contiguous(memory_format=_memory_format(len(kernel), self.channels_last))
        return _from_channels_first(y, self.rank, self.channels_last)

    def regularization_loss(self) -> torch.Tensor | None:
        return _kernel_and_bias_regularization(self)
