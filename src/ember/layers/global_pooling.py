"""Global pooling layers: the max or mean over every spatial axis, keeping the channels.

Split from :mod:`ember.layers.pooling` (windowed pooling); both take Keras' channels-last data by
default, or ``data_format="channels_first"``.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.GlobalAveragePooling2D()(torch.randn(4, 7, 7, 16)).shape
    torch.Size([4, 16])
"""

from __future__ import annotations

import torch

from ember.layers.base import Layer
from ember.layers.conv import _DATA_FORMATS, _choice, _expect_rank


def _set_global_pooling(layer: Layer, data_format: str, keepdims: bool) -> None:
    layer.data_format = _choice("data_format", data_format, _DATA_FORMATS)
    layer.channels_last = layer.data_format == "channels_last"
    layer.keepdims = keepdims


def _spatial_dims(layer: Layer) -> tuple[int, ...]:
    """The spatial axes of ``layer``'s batched input: after the batch, then the channel if first."""
    first = 1 if layer.channels_last else 2
    return tuple(range(first, first + layer.rank))


# -- GlobalMaxPooling1D/2D/3D ------------------------------------------------------------------
class GlobalMaxPooling1D(Layer):
    """Max over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalMaxPooling1D()``."""

    rank = 1

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(_spatial_dims(self), keepdim=self.keepdims)


class GlobalMaxPooling2D(Layer):
    """Max over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalMaxPooling2D()(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 16])
    """

    rank = 2

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(_spatial_dims(self), keepdim=self.keepdims)


class GlobalMaxPooling3D(Layer):
    """Max over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank = 3

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(_spatial_dims(self), keepdim=self.keepdims)


# -- GlobalAveragePooling1D/2D/3D --------------------------------------------------------------
class GlobalAveragePooling1D(Layer):
    """Mean over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalAveragePooling1D()``.

    Given a mask (from ``Embedding(mask_zero=True)``), the mean is over the real steps only.
    """

    rank = 1
    uses_mask = True

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return x.mean(_spatial_dims(self), keepdim=self.keepdims)
        # The mean over real steps only (Keras): padded steps never change the result.
        step_axis = _spatial_dims(self)[0]
        weights = mask.to(x.dtype).unsqueeze(-1 if self.channels_last else 1)  # (N, T, 1)
        total = (x * weights).sum(step_axis, keepdim=self.keepdims)
        count = weights.sum(step_axis, keepdim=self.keepdims).clamp_min(1.0)
        return total / count


class GlobalAveragePooling2D(Layer):
    """Mean over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalAveragePooling2D(keepdims=True)(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 1, 1, 16])
    """

    rank = 2

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(_spatial_dims(self), keepdim=self.keepdims)


class GlobalAveragePooling3D(Layer):
    """Mean over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank = 3

    def __init__(
        self,
        data_format: str = "channels_last",
        keepdims: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        _set_global_pooling(self, data_format, keepdims)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _expect_rank(self, input_shape)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(_spatial_dims(self), keepdim=self.keepdims)
