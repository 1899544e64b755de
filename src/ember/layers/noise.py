"""Regularisation layers: GaussianNoise, GaussianDropout, SpatialDropout1D/2D and
ActivityRegularization.

The noise layers act only in training mode (``module.train()``) and pass inputs through
unchanged otherwise, as in Keras. ``seed`` makes a layer's noise repeatable.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.GaussianNoise(0.1).eval()(torch.ones(2, 3)).sum().item()
    6.0
"""

from __future__ import annotations

import math

import torch

from ember import checks
from ember.errors import ShapeError
from ember.layers import regularizers
from ember.layers.base import Layer
from ember.layers.registry import LAYERS


class _Noise(Layer):
    """A layer drawing random numbers while training, from its own generator when seeded."""

    keeps_mask = True

    def __init__(self, seed: int | None, input_shape: tuple[int, ...] | None, name: str | None):
        super().__init__(input_shape=input_shape, name=name)
        self.seed = None if seed is None else checks.non_negative_int("seed", seed)
        self._seeded: torch.Generator | None = None

    def _generator_on(self, device: torch.device) -> torch.Generator | None:
        """The layer's generator on ``device`` (seeded once), or None for torch's global one."""
        if self.seed is None:
            return None
        if self._seeded is None or self._seeded.device != device:
            self._seeded = torch.Generator(device).manual_seed(self.seed)
        return self._seeded

    def _normal_like(self, x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
        noise = torch.empty_like(x)
        return noise.normal_(mean, std, generator=self._generator_on(x.device))


@LAYERS.register()
class GaussianNoise(_Noise):
    """Adds zero-mean normal noise of standard deviation ``stddev`` while training.

    Example:
        >>> layer = GaussianNoise(0.5, seed=0)
        >>> float((layer(torch.zeros(10000, 1)).std() - 0.5).abs()) < 0.02
        True
    """

    def __init__(
        self,
        stddev: float,
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.stddev = checks.number_in("stddev", stddev, 0, 1, closed="[]")  # Keras' range

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.stddev == 0:
            return x
        return x + self._normal_like(x, 0.0, self.stddev)


@LAYERS.register()
class GaussianDropout(_Noise):
    """Multiplies by normal noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``
    while training.

    Example:
        >>> GaussianDropout(0.2).eval()(torch.ones(1, 2))
        tensor([[1., 1.]])
    """

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.rate = checks.rate("rate", rate)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        return x * self._normal_like(x, 1.0, math.sqrt(self.rate / (1.0 - self.rate)))


class _SpatialDropout(_Noise):
    """Drops whole channels (feature maps), scaling the rest by ``1 / (1 - rate)``."""

    rank: int  # spatial axes

    def __init__(
        self,
        rate: float,
        data_format: str | None,
        seed: int | None,
        input_shape: tuple[int, ...] | None,
        name: str | None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.rate = checks.rate("rate", rate)
        formats = ("channels_last", "channels_first")
        self.data_format = checks.one_of("data_format", data_format or formats[0], formats)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != self.rank + 1:
            layout = "(steps, channels)" if self.rank == 1 else "(rows, cols, channels)"
            raise ShapeError(
                f"{type(self).__name__} expects per-sample shape {layout}, received "
                f"{tuple(input_shape)}. Fix: reshape the data, or use Dropout for other shapes."
            )

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        ones = (1,) * self.rank  # one draw per sample and channel
        if self.data_format == "channels_last":
            shape = (x.shape[0], *ones, x.shape[-1])
        else:
            shape = (x.shape[0], x.shape[1], *ones)
        keep = torch.empty(shape, dtype=x.dtype, device=x.device)
        keep.bernoulli_(1 - self.rate, generator=self._generator_on(x.device))
        return x * keep.div_(1 - self.rate)


@LAYERS.register()
class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of ``(N, steps, channels)`` sequences.

    Example:
        >>> y = SpatialDropout1D(0.5, seed=1)(torch.ones(1, 4, 6))
        >>> bool((y == y[:, :1]).all())  # a channel is dropped at every step or at none
        True
    """

    rank = 1

    def __init__(
        self,
        rate: float,
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(rate, "channels_last", seed, input_shape, name)


@LAYERS.register()
class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of ``(N, rows, cols, channels)`` images.

    Example:
        >>> SpatialDropout2D(0.5).eval()(torch.ones(1, 2, 2, 3)).sum().item()
        12.0
    """

    rank = 2

    def __init__(
        self,
        rate: float,
        data_format: str | None = "channels_last",
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(rate, data_format, seed, input_shape, name)


@LAYERS.register()
class ActivityRegularization(Layer):
    """Passes inputs through and adds ``(l1 * sum|x| + l2 * sum x²) / batch size`` to the loss,
    as Keras does, in training and evaluation.

    The penalty depends on the activations, so it is the one of the layer's last call:
    :meth:`regularization_loss` returns it, and ``ember.Supervised`` adds it once per step.

    Example:
        >>> layer = ActivityRegularization(l1=0.1)
        >>> _ = layer(torch.tensor([[1.0, -2.0], [3.0, 0.0]]))
        >>> layer.regularization_loss()
        tensor(0.3000)
    """

    keeps_mask = True

    def __init__(
        self,
        l1: float = 0.0,
        l2: float = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.regularizer = regularizers.L1L2(l1=l1, l2=l2)
        self._penalty: torch.Tensor | None = None

    def call(self, x: torch.Tensor) -> torch.Tensor:
        self._penalty = self.regularizer(x) / x.shape[0]  # Keras divides by the batch size
        return x

    def regularization_loss(self) -> torch.Tensor | None:
        """The penalty of the last call, or None before the first."""
        return self._penalty
