"""Reshaping layers: Permute, RepeatVector, UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D.

Channels-last like Keras: sequences are ``(N, steps, channels)``, images ``(N, rows, cols,
channels)`` (``data_format="channels_first"`` takes ``(N, channels, rows, cols)``). ``Reshape``
and ``Flatten`` live in :mod:`ember.layers.core`.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.ZeroPadding2D(((1, 0), (2, 2)))(torch.ones(1, 3, 3, 1)).shape
    torch.Size([1, 4, 7, 1])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer
from ember.layers.registry import LAYERS

Pair = tuple[int, int]
_LAYOUTS = {1: "(steps, channels)", 2: "(rows, cols, channels)"}


def _data_format(value: Any) -> str:
    """Keras' data_format; None is Keras' default image format, channels-last."""
    return checks.one_of(
        "data_format", value or "channels_last", ("channels_last", "channels_first")
    )


def _pair(name: str, value: Any) -> Pair:
    """An int ``n`` as ``(n, n)``, or a pair of non-negative ints (before, after)."""
    pair = (value, value) if checks.is_int(value) else value
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or not all(checks.is_int(v) and v >= 0 for v in pair)
    ):
        raise ConfigError(
            f"expected a non-negative integer or two of them (before, after), "
            f"received {name}={value!r}"
        )
    return int(pair[0]), int(pair[1])


def _pairs(name: str, value: Any, rank: int) -> tuple[Pair, ...]:
    """Keras' padding/cropping forms: an int for every side, else one int or (before, after)
    pair per spatial axis (for one axis, the pair itself)."""
    if rank == 1:
        return (_pair(name, value),)
    if checks.is_int(value):
        return (_pair(name, value),) * rank
    if not isinstance(value, (list, tuple)) or len(value) != rank:
        raise ConfigError(
            f"expected an integer, {rank} integers or {rank} (before, after) pairs, "
            f"received {name}={value!r}. Fix: e.g. {name}=((1, 1), (2, 2))."
        )
    return tuple(_pair(name, v) for v in value)


def _expect_rank(
    layer: Layer, input_shape: tuple[int, ...], rank: int, layout: str | None = None
) -> None:
    """Checks that the per-sample shape has ``rank`` axes (by default spatial and channels)."""
    if len(input_shape) != rank:
        layout = layout or _LAYOUTS[rank - 1]
        raise ShapeError(
            f"{type(layer).__name__} expects per-sample shape {layout}, received "
            f"{tuple(input_shape)}. Fix: reshape the data to {rank} axes per sample."
        )


@LAYERS.register()
class Permute(Layer):
    """Reorders the axes of each sample: ``dims`` is a permutation of ``1..rank`` (1 is the
    first axis after the batch).

    Example:
        >>> Permute((2, 1))(torch.zeros(4, 10, 64)).shape
        torch.Size([4, 64, 10])
    """

    def __init__(
        self,
        dims: tuple[int, ...],
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        dims_tuple = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        if sorted(dims_tuple) != list(range(1, len(dims_tuple) + 1)):
            raise ConfigError(
                f"expected dims to be a permutation of 1..n (axis 0 is the batch), received "
                f"dims={dims!r}. Fix: e.g. dims=(2, 1) to swap the two axes of each sample."
            )
        self.dims = dims_tuple

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape, len(self.dims), f"of {len(self.dims)} axes")

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, *self.dims)


@LAYERS.register()
class RepeatVector(Layer):
    """Repeats each sample's vector ``n`` times: ``(N, features)`` -> ``(N, n, features)``.

    Example:
        >>> RepeatVector(3)(torch.zeros(2, 32)).shape
        torch.Size([2, 3, 32])
    """

    def __init__(
        self, n: int, input_shape: tuple[int, ...] | None = None, name: str | None = None
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.n = checks.positive_int("n", n)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 1:
            raise ShapeError(
                f"RepeatVector expects (batch, features) inputs, received per-sample shape "
                f"{tuple(input_shape)}. Fix: Flatten() first, or use a layer for sequences."
            )

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1).expand(-1, self.n, -1).contiguous()


@LAYERS.register()
class UpSampling1D(Layer):
    """Repeats each step ``size`` times: ``(N, steps, C)`` -> ``(N, steps * size, C)``.

    Example:
        >>> UpSampling1D(2)(torch.tensor([[[1.0], [2.0]]])).flatten()
        tensor([1., 1., 2., 2.])
    """

    def __init__(
        self, size: int = 2, input_shape: tuple[int, ...] | None = None, name: str | None = None
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.size = checks.positive_int("size", size)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape, 2)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.repeat_interleave(self.size, dim=1)


@LAYERS.register()
class UpSampling2D(Layer):
    """Enlarges images by ``size`` (rows, cols): ``"nearest"`` repeats pixels, ``"bilinear"``
    interpolates as Keras does (half-pixel centres, no corner alignment).

    Example:
        >>> UpSampling2D((2, 3))(torch.zeros(1, 4, 4, 8)).shape
        torch.Size([1, 8, 12, 8])
    """

    def __init__(
        self,
        size: int | tuple[int, int] = (2, 2),
        data_format: str | None = "channels_last",
        interpolation: str = "nearest",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        pair = (size, size) if checks.is_int(size) else size
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ConfigError(f"expected a positive integer or two of them, received size={size!r}")
        self.size = tuple(checks.positive_int("size", s) for s in pair)
        self.channels_last = _data_format(data_format) == "channels_last"
        self.interpolation = checks.one_of("interpolation", interpolation, ("nearest", "bilinear"))

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape, 3)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols = (1, 2) if self.channels_last else (2, 3)
        if self.interpolation == "nearest":
            return x.repeat_interleave(self.size[0], rows).repeat_interleave(self.size[1], cols)
        images = x.permute(0, 3, 1, 2) if self.channels_last else x  # (N, C, H, W), a view
        size = (images.shape[2] * self.size[0], images.shape[3] * self.size[1])
        y = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        return y.permute(0, 2, 3, 1) if self.channels_last else y


class _ZeroPadding(Layer):
    """Pads the spatial axes of ``rank``-D data with zeros."""

    rank: int

    def __init__(
        self,
        padding: Any,
        data_format: str | None = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.padding = _pairs("padding", padding, self.rank)
        self.channels_last = _data_format(data_format) == "channels_last"

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape, self.rank + 1)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        pads = [amount for pair in reversed(self.padding) for amount in pair]  # last axis first
        return F.pad(x, [0, 0, *pads] if self.channels_last else pads)


@LAYERS.register()
class ZeroPadding1D(_ZeroPadding):
    """Pads steps with zeros: ``padding`` is an int (both ends) or (start, end).

    Example:
        >>> ZeroPadding1D((1, 2))(torch.ones(1, 3, 1)).flatten()
        tensor([0., 1., 1., 1., 0., 0.])
    """

    rank = 1

    def __init__(
        self,
        padding: int | Pair = 1,
        data_format: str | None = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(padding, data_format, input_shape, name)


@LAYERS.register()
class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns with zeros: ``padding`` is an int (every side), ``(rows, cols)``
    (each at both ends) or ``((top, bottom), (left, right))``.

    Example:
        >>> ZeroPadding2D(1)(torch.ones(1, 2, 2, 1)).shape
        torch.Size([1, 4, 4, 1])
    """

    rank = 2

    def __init__(
        self,
        padding: int | tuple[Any, Any] = (1, 1),
        data_format: str | None = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(padding, data_format, input_shape, name)


class _Cropping(Layer):
    """Crops the spatial axes of ``rank``-D data."""

    rank: int

    def __init__(
        self,
        cropping: Any,
        data_format: str | None = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.cropping = _pairs("cropping", cropping, self.rank)
        self.channels_last = _data_format(data_format) == "channels_last"

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape, self.rank + 1)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        first = 1 if self.channels_last else 2
        for axis, (before, after) in enumerate(self.cropping, start=first):
            size = x.shape[axis]
            if before + after >= size:
                raise ShapeError(
                    f"{type(self).__name__}(cropping={self.cropping}) removes {before + after} "
                    f"of the {size} entries of axis {axis} (input shape {tuple(x.shape)}), "
                    f"leaving none. Fix: crop less than {size} in total on that axis."
                )
            x = x.narrow(axis, before, size - before - after)
        return x


@LAYERS.register()
class Cropping1D(_Cropping):
    """Removes steps at the start and end: ``cropping`` is an int (both ends) or (start, end).

    Example:
        >>> Cropping1D((1, 2))(torch.arange(5.0).view(1, 5, 1)).flatten()
        tensor([1., 2.])
    """

    rank = 1

    def __init__(
        self,
        cropping: int | Pair = (1, 1),
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(cropping, "channels_last", input_shape, name)


@LAYERS.register()
class Cropping2D(_Cropping):
    """Removes rows and columns at the edges: ``cropping`` is an int (every side),
    ``(rows, cols)`` (each at both ends) or ``((top, bottom), (left, right))``.

    Example:
        >>> Cropping2D(((2, 2), (4, 4)))(torch.zeros(1, 28, 28, 3)).shape
        torch.Size([1, 24, 20, 3])
    """

    rank = 2

    def __init__(
        self,
        cropping: int | tuple[Any, Any] = ((0, 0), (0, 0)),
        data_format: str | None = "channels_last",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(cropping, data_format, input_shape, name)
