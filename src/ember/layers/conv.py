"""Convolutions with Keras semantics: channels-last data and TensorFlow's "same" padding.

Inputs are ``(N, *spatial, C)`` by default, as in Keras. ``call`` moves the channel axis with a free
``movedim`` view, which is an NCHW tensor with channels-last *memory*; kernels are stored
channels-last too, so PyTorch runs its fast channels-last convolution and returns channels-last
memory, which ``movedim`` turns back into a contiguous ``(N, *spatial, C)`` tensor. No copy either
way. 1-D layers run as 2-D ones with a height of 1, which keeps this trick (and is faster on CPU).
Depthwise, separable and transposed convolutions build on this module in
:mod:`ember.layers.conv_variants`.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.Conv2D(8, 3, strides=2, padding="same")(torch.randn(4, 28, 28, 3)).shape
    torch.Size([4, 14, 14, 8])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer
from ember.layers.core import (
    _init_kernel_and_bias,
    _kernel_and_bias_regularization,
    _new_parameter,
)
from ember.layers.registry import LAYERS
from ember.layers.variables import Variable

_DATA_FORMATS = ("channels_last", "channels_first")
_CONV = {2: F.conv2d, 3: F.conv3d}  # by lifted rank (1-D runs as 2-D)
_LAYOUTS = {1: "steps", 2: "height, width", 3: "depth, height, width"}


# -- helpers shared with pooling.py and conv_variants.py ---------------------------------------
def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        known = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{name} must be one of {known}, received {name}={value!r}")
    return value.lower()


def _int_tuple(name: str, value: Any, rank: int, minimum: int = 1) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or any(
        isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in values
    ):
        kind = "a positive integer" if minimum == 1 else "a non-negative integer"
        raise ConfigError(f"expected {kind} or {rank} of them, received {name}={value!r}")
    return values


def _lift(values: tuple[int, ...], fill: int = 1) -> tuple[int, ...]:
    """1-D settings as 2-D ones over a height of 1."""
    return (fill, *values) if len(values) == 1 else values


def _to_channels_first(x: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    """(N, *spatial, C) or (N, C, *spatial) -> (N, C, *spatial), a free view; 1-D gets height 1."""
    if rank == 1:
        x = x.unsqueeze(1 if channels_last else 2)
    return x.movedim(-1, 1) if channels_last else x


def _from_channels_first(y: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    if channels_last:
        y = y.movedim(1, -1)
    return y.squeeze(1 if channels_last else 2) if rank == 1 else y


def _memory_format(lifted_rank: int, channels_last: bool) -> torch.memory_format:
    if not channels_last:
        return torch.contiguous_format
    return torch.channels_last if lifted_rank == 2 else torch.channels_last_3d


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's "same": ``ceil(size / stride)`` outputs, any odd pixel padded at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _pad(
    x, padding, kernel, strides, dilation, value=0.0, explicit=False
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Pads ``x`` (N, C, *spatial) for ``padding``; returns it and the symmetric padding left.

    Symmetric padding is left to the op (no copy) unless ``explicit``.
    """
    if padding == "valid":
        return x, (0,) * len(kernel)
    if padding == "causal":  # 1-D (lifted): only the start of the steps axis, as in Keras
        pads = [(0, 0), ((kernel[1] - 1) * dilation[1], 0)]
    else:
        pads = list(map(_same_padding, x.shape[2:], kernel, strides, dilation))
    if not explicit and all(before == after for before, after in pads):
        return x, tuple(before for before, _ in pads)  # the op pads; no copy
    flat = [amount for pair in reversed(pads) for amount in pair]  # F.pad: last axis first
    return F.pad(x, flat, value=value), (0,) * len(pads)


def _expect_rank(layer: Any, input_shape: tuple[int, ...]) -> int:
    """Checks the per-sample shape and returns its channel count."""
    layout = _LAYOUTS[layer.rank]
    layout = f"({layout}, channels)" if layer.channels_last else f"(channels, {layout})"
    if len(input_shape) != layer.rank + 1:
        raise ShapeError(
            f"{type(layer).__name__} ({layer.data_format}) expects per-sample shape {layout}, "
            f"received {tuple(input_shape)}. Fix: reshape the data, e.g. add a channel axis."
        )
    return input_shape[-1] if layer.channels_last else input_shape[0]


# -- conv geometry, kernels and the padded convolution, shared with conv_variants.py ----------
def _set_geometry(layer: Layer, kernel_size, strides, padding, data_format, dilation_rate) -> None:
    """Checks and sets the geometry attributes of a conv layer of rank ``layer.rank``."""
    paddings = ("valid", "same", "causal") if layer.rank == 1 else ("valid", "same")
    layer.kernel_size = _int_tuple("kernel_size", kernel_size, layer.rank)
    layer.strides = _int_tuple("strides", strides, layer.rank)
    layer.dilation_rate = _int_tuple("dilation_rate", dilation_rate, layer.rank)
    layer.padding = _choice("padding", padding, paddings)
    layer.data_format = _choice("data_format", data_format, _DATA_FORMATS)
    layer.channels_last = layer.data_format == "channels_last"


def _to_memory_format(layer: Layer, tensor: torch.Tensor) -> torch.Tensor:
    """A kernel in the memory format of ``layer``'s data (channels-last when the data is)."""
    if layer.rank == 1:  # (out, in, k) with the strides of a channels-last (out, in, 1, k)
        tensor = tensor.unsqueeze(2)
        return tensor.contiguous(memory_format=_memory_format(2, layer.channels_last)).squeeze(2)
    return tensor.contiguous(memory_format=_memory_format(layer.rank, layer.channels_last))


def _new_kernel(layer: Layer, shape: tuple[int, ...], initializer: Any) -> nn.Parameter:
    """A torch-layout kernel (out, in, *kernel), channels-last in memory when the data is."""
    tensor = torch.empty(shape)
    initializer(tensor)
    return Variable(_to_memory_format(layer, tensor))


def _depthwise_kernel(
    layer: Layer, channels: int, multiplier: int, initializer: Any
) -> nn.Parameter:
    # Initialise as (multiplier, channels, *kernel), whose torch fans are Keras' depthwise fans
    # (fan_in = channels * kernel area), then store torch's grouped layout: output channel
    # c * multiplier + j is filter j of input channel c.
    kernel = torch.empty(multiplier, channels, *layer.kernel_size)
    initializer(kernel)
    weight = kernel.transpose(0, 1).reshape(channels * multiplier, 1, *layer.kernel_size)
    return Variable(_to_memory_format(layer, weight))


def _convolve(layer: Layer, x: torch.Tensor, weight, bias, groups: int) -> torch.Tensor:
    """``layer``'s padded, strided, dilated convolution of ``x`` (N, C, *spatial), lifted."""
    kernel = _lift(tuple(weight.shape[2:]))
    strides, dilation = _lift(layer.strides), _lift(layer.dilation_rate)
    x, padding = _pad(x, layer.padding, kernel, strides, dilation)
    weight = weight.unsqueeze(2) if weight.dim() == 3 else weight
    return _CONV[len(kernel)](x, weight, bias, strides, padding, dilation, groups)


# -- Conv1D/2D/3D: one base, each public class names its rank ---------------------------------
class _Conv(Layer):
    """A convolution over ``rank`` spatial axes (set by subclasses), Keras' ``BaseConv``."""

    rank: int  # 1, 2 or 3 spatial axes

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        data_format: str = "channels_last",
        dilation_rate: int | tuple[int, ...] = 1,
        groups: int = 1,
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
        self.groups = checks.positive_int("groups", groups)
        if filters % groups:
            raise ConfigError(
                f"filters must be divisible by groups, received {filters=}, {groups=}"
            )
        _set_geometry(self, kernel_size, strides, padding, data_format, dilation_rate)
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
        if channels % self.groups:
            raise ShapeError(
                f"{type(self).__name__}(groups={self.groups}) needs input channels divisible by "
                f"{self.groups}, received {channels} channels (per-sample shape {input_shape})."
            )
        shape = (self.filters, channels // self.groups, *self.kernel_size)
        self.weight = _new_kernel(self, shape, self.kernel_initializer)
        if self.use_bias:
            self.bias = _new_parameter((self.filters,), self.bias_initializer)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = _to_channels_first(x, self.rank, self.channels_last)  # (N, C, *spatial), a view
        y = _convolve(self, x, self.weight, self.bias, self.groups)
        return _from_channels_first(y, self.rank, self.channels_last)

    def regularization_loss(self) -> torch.Tensor | None:
        return _kernel_and_bias_regularization(self)


@LAYERS.register()
class Conv1D(_Conv):
    """1-D convolution over ``(N, steps, channels)``; ``padding="causal"`` pads only the start.

    Example:
        >>> Conv1D(16, 5, padding="causal", dilation_rate=2)(torch.randn(2, 100, 8)).shape
        torch.Size([2, 100, 16])
    """

    rank = 1


@LAYERS.register()
class Conv2D(_Conv):
    """2-D convolution over ``(N, height, width, channels)``, or NCHW with ``"channels_first"``.

    Example:
        >>> Conv2D(32, (3, 3), activation="relu")(torch.randn(2, 28, 28, 1)).shape
        torch.Size([2, 26, 26, 32])
    """

    rank = 2


@LAYERS.register()
class Conv3D(_Conv):
    """3-D convolution over ``(N, depth, height, width, channels)``.

    Example:
        >>> Conv3D(4, 3, padding="same")(torch.randn(1, 8, 8, 8, 2)).shape
        torch.Size([1, 8, 8, 8, 4])
    """

    rank = 3
