"""Global pooling layers: the max or mean over every spatial axis, keeping the channels.

One base, :class:`_GlobalPooling` (Keras' ``BaseGlobalPooling``), holds the arguments and the
computation; each public class only names its rank and ``pool_mode`` (``"max"`` or
``"average"``). Split from :mod:`ember.layers.pooling` (windowed pooling); both take Keras'
channels-last data by default, or ``data_format="channels_first"``.

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
from ember.layers.registry import LAYERS


class _GlobalPooling(Layer):
    """The ``pool_mode`` reduction over the ``rank`` spatial axes (set by subclasses)."""

    rank: int  # 1, 2 or 3 spatial axes
    pool_mode: str  # "max" or "average"

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

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool_mode == "max":
            return x.amax(self._spatial_dims(), keepdim=self.keepdims)
        return x.mean(self._spatial_dims(), keepdim=self.keepdims)

    def _spatial_dims(self) -> tuple[int, ...]:
        """The spatial axes of the batched input: after the batch, then the channel if first."""
        first = 1 if self.channels_last else 2
        return tuple(range(first, first + self.rank))


# -- GlobalMaxPooling1D/2D/3D ------------------------------------------------------------------
@LAYERS.register("GlobalMaxPooling1D", "GlobalMaxPool1D")
class GlobalMaxPooling1D(_GlobalPooling):
    """Max over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalMaxPooling1D()``."""

    rank, pool_mode = 1, "max"


@LAYERS.register("GlobalMaxPooling2D", "GlobalMaxPool2D")
class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalMaxPooling2D()(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 16])
    """

    rank, pool_mode = 2, "max"


@LAYERS.register()
class GlobalMaxPooling3D(_GlobalPooling):
    """Max over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank, pool_mode = 3, "max"


# -- GlobalAveragePooling1D/2D/3D --------------------------------------------------------------
@LAYERS.register("GlobalAveragePooling1D", "GlobalAvgPool1D")
class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over all steps: ``(N, steps, C) -> (N, C)``. Example: ``GlobalAveragePooling1D()``.

    Given a mask (from ``Embedding(mask_zero=True)``), the mean is over the real steps only.
    """

    rank, pool_mode = 1, "average"
    uses_mask = True

    def call(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return super().call(x)
        # The mean over real steps only (Keras): padded steps never change the result.
        step_axis = self._spatial_dims()[0]
        weights = mask.to(x.dtype).unsqueeze(-1 if self.channels_last else 1)  # (N, T, 1)
        total = (x * weights).sum(step_axis, keepdim=self.keepdims)
        count = weights.sum(step_axis, keepdim=self.keepdims).clamp_min(1.0)
        return total / count


@LAYERS.register("GlobalAveragePooling2D", "GlobalAvgPool2D")
class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: ``(N, H, W, C) -> (N, C)``.

    Example:
        >>> GlobalAveragePooling2D(keepdims=True)(torch.randn(2, 7, 7, 16)).shape
        torch.Size([2, 1, 1, 16])
    """

    rank, pool_mode = 2, "average"


@LAYERS.register()
class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height, width: ``(N, D, H, W, C) -> (N, C)``. Example: see 2-D."""

    rank, pool_mode = 3, "average"


# Keras' short aliases (registered above under these names too).
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
