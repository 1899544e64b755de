"""Normalization layers with Keras defaults: BatchNormalization and LayerNormalization.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.BatchNormalization()(torch.randn(8, 5, 5, 3)).shape
    torch.Size([8, 5, 5, 3])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember.errors import ConfigError, ShapeError
from ember.layers import initializers
from ember.layers.base import Layer
from ember.layers.core import _new_parameter


def _as_axes(axis: Any) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
        raise ConfigError(f"axis must be an integer or a list of integers, received axis={axis!r}")
    return axes


def _positive_axes(layer: Any, axes: tuple[int, ...], input_shape: tuple[int, ...]) -> list[int]:
    """Axes of the batched input (batch = 0), checked against the per-sample shape."""
    ndim = len(input_shape) + 1
    positive = sorted({a + ndim if a < 0 else a for a in axes})
    if any(not 1 <= a < ndim for a in positive):
        raise ShapeError(
            f"{type(layer).__name__}(axis={layer.axis!r}) needs inputs with those axes, received "
            f"per-sample shape {tuple(input_shape)} (batched rank {ndim}; axis 0 is the batch)."
        )
    return positive


def _positive_float(name: str, value: Any, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"expected a positive number, received {name}={value!r}")
    if upper is not None and not value < upper:
        raise ConfigError(f"expected {name} in (0, {upper}), received {name}={value!r}")
    return float(value)


class BatchNormalization(Layer):
    """Normalizes ``axis`` (default the last, i.e. channels) with batch statistics while training
    and moving averages in eval mode.

    Keras' ``momentum=0.99`` (weight of the old average) is torch's ``momentum=0.01``. The moving
    variance is updated with the unbiased batch variance, as ``torch.nn.BatchNorm`` does. State is
    ``weight`` (gamma), ``bias`` (beta) and the buffers ``running_mean``/``running_var``.

    Example:
        >>> layer = BatchNormalization(momentum=0.9)
        >>> layer(torch.randn(16, 4)).shape, layer.running_mean.shape
        (torch.Size([16, 4]), torch.Size([4]))
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ConfigError(f"axis must be an integer, received axis={axis!r}")
        self.axis = axis
        self.momentum = _positive_float("momentum", momentum, upper=1.0)
        self.epsilon = _positive_float("epsilon", epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        for parameter in ("weight", "bias"):
            self.register_parameter(parameter, None)
        for buffer in ("running_mean", "running_var"):
            self.register_buffer(buffer, None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        (self._axis,) = _positive_axes(self, (self.axis,), input_shape)
        features = input_shape[self._axis - 1]
        if self.scale:
            self.weight = _new_parameter((features,), self.gamma_initializer)
        if self.center:
            self.bias = _new_parameter((features,), self.beta_initializer)
        self.running_mean = torch.zeros(features)
        self.running_var = torch.ones(features)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        def normalize(v: torch.Tensor) -> torch.Tensor:  # v: (N, C, ...)
            return F.batch_norm(
                v, self.running_mean, self.running_var, self.weight, self.bias,
                self.training, 1.0 - self.momentum, self.epsilon,
            )  # fmt: skip

        if self._axis == x.dim() - 1:  # channels last: (N, ..., C) as (N * ..., C), a free view
            return normalize(x.reshape(-1, x.shape[-1])).view(x.shape)
        return normalize(x.movedim(self._axis, 1)).movedim(1, self._axis)


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (default the last) with its own mean and variance.

    Trailing axes use ``F.layer_norm``; others are computed directly. ``weight`` (gamma) and
    ``bias`` (beta) have the shape of the normalized axes.

    Example:
        >>> LayerNormalization()(torch.randn(2, 10, 32)).shape
        torch.Size([2, 10, 32])
    """

    keeps_mask = True  # per-step: a padded step's mask carries through

    def __init__(
        self,
        axis: int | tuple[int, ...] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self._axes = _as_axes(axis)
        self.axis = axis
        self.epsilon = _positive_float("epsilon", epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        for parameter in ("weight", "bias"):
            self.register_parameter(parameter, None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        ndim = len(input_shape) + 1
        self._positive = _positive_axes(self, self._axes, input_shape)
        self._trailing = self._positive == list(range(ndim - len(self._positive), ndim))
        shape = tuple(input_shape[a - 1] for a in self._positive)
        if self.scale:
            self.weight = _new_parameter(shape, self.gamma_initializer)
        if self.center:
            self.bias = _new_parameter(shape, self.beta_initializer)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if self._trailing:
            shape = x.shape[x.dim() - len(self._positive) :]
            return F.layer_norm(x, shape, self.weight, self.bias, self.epsilon)
        mean = x.mean(self._positive, keepdim=True)
        variance = x.var(self._positive, unbiased=False, keepdim=True)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        # gamma/beta broadcast over the other axes: size 1 there, the parameter's sizes here.
        shape = [x.shape[a] if a in self._positive else 1 for a in range(x.dim())]
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        return y if self.bias is None else y + self.bias.reshape(shape)
