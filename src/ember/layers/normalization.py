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

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.layers import initializers
from ember.layers.base import Layer
from ember.layers.core import _new_parameter
from ember.layers.registry import LAYERS


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


def _init_gamma_and_beta(
    layer: Layer, center: bool, scale: bool, beta_initializer: Any, gamma_initializer: Any
) -> None:
    """Sets the options of the learned scale (gamma, ``weight``) and offset (beta, ``bias``)."""
    layer.center, layer.scale = center, scale
    layer.beta_initializer = initializers.get(beta_initializer)
    layer.gamma_initializer = initializers.get(gamma_initializer)
    for parameter in ("weight", "bias"):
        layer.register_parameter(parameter, None)


def _build_gamma_and_beta(layer: Layer, shape: tuple[int, ...]) -> None:
    """Creates ``weight`` (gamma, if ``scale``) and ``bias`` (beta, if ``center``) of ``shape``."""
    if layer.scale:
        layer.weight = _new_parameter(shape, layer.gamma_initializer)
    if layer.center:
        layer.bias = _new_parameter(shape, layer.beta_initializer)


@LAYERS.register()
class BatchNormalization(Layer):
    """Normalizes ``axis`` (default the last, i.e. channels) with batch statistics while training
    and moving averages in eval mode.

    Keras' ``momentum=0.99`` (weight of the old average) is torch's ``momentum=0.01``. The moving
    variance follows the biased batch variance, as in Keras (``torch.nn.BatchNorm`` uses the
    unbiased one). State is ``weight`` (gamma), ``bias`` (beta) and the buffers
    ``running_mean``/``running_var`` (Keras' moving_mean/moving_variance).

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
        self.momentum = checks.positive_number("momentum", momentum)
        if not self.momentum < 1:  # not checks.number_in: this message names momentum
            raise ConfigError(f"expected momentum in (0, 1.0), received momentum={momentum!r}")
        self.epsilon = checks.positive_number("epsilon", epsilon)
        _init_gamma_and_beta(self, center, scale, beta_initializer, gamma_initializer)
        for buffer in ("running_mean", "running_var"):
            self.register_buffer(buffer, None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        (self._axis,) = _positive_axes(self, (self.axis,), input_shape)
        features = input_shape[self._axis - 1]
        _build_gamma_and_beta(self, (features,))
        self.running_mean = torch.zeros(features)
        self.running_var = torch.ones(features)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        # F.batch_norm moves running_var towards the unbiased batch variance, n / (n - 1) times
        # Keras' biased one (n values per channel). It updates a copy scaled by n / (n - 1),
        # which, scaled back, is Keras' update exactly (a new tensor, not running_var in place:
        # autograd keeps what batch_norm was given).
        running_var, correction = self.running_var, None
        count = x.numel() // x.shape[self._axis]
        if self.training and count > 1:  # 1 value per channel: F.batch_norm refuses
            correction = count / (count - 1)
            running_var = self.running_var * correction

        def normalize(v: torch.Tensor) -> torch.Tensor:  # v: (N, C, ...)
            return F.batch_norm(
                v, self.running_mean, running_var, self.weight, self.bias,
                self.training, 1.0 - self.momentum, self.epsilon,
            )  # fmt: skip

        if self._axis == x.dim() - 1:  # channels last: (N, ..., C) as (N * ..., C), a free view
            y = normalize(x.reshape(-1, x.shape[-1])).view(x.shape)
        else:
            y = normalize(x.movedim(self._axis, 1)).movedim(1, self._axis)
        if correction is not None:
            self.running_var.copy_(running_var / correction)
        return y


@LAYERS.register()
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
        self.epsilon = checks.positive_number("epsilon", epsilon)
        _init_gamma_and_beta(self, center, scale, beta_initializer, gamma_initializer)

    def build(self, input_shape: tuple[int, ...]) -> None:
        ndim = len(input_shape) + 1
        self._positive = _positive_axes(self, self._axes, input_shape)
        self._trailing = self._positive == list(range(ndim - len(self._positive), ndim))
        shape = tuple(input_shape[a - 1] for a in self._positive)
        _build_gamma_and_beta(self, shape)

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
