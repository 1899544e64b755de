"""Plumbing shared by the batch augmentations: the training switch, layouts and random draws.

Subclasses implement ``augment`` on a channels-first batch; :mod:`ember.data.augment` (flips,
noise, erasing, :class:`~ember.data.augment.Augment`) and :mod:`ember.data.geometric` (affine
warps and crops) build on it.
"""

from __future__ import annotations

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError


def uniform(
    size: int, low: float, high: float, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """``size`` numbers uniform in [low, high), drawn on the generator's device, sent to ``device``.

    Example:
        >>> uniform(3, 2.0, 2.0, None, torch.device("cpu")).tolist()
        [2.0, 2.0, 2.0]
    """
    source = generator.device if generator is not None else device
    values = torch.rand(size, generator=generator, device=source, dtype=torch.float32)
    return (low + (high - low) * values).to(device)


class BatchAugmentation(nn.Module):
    """Shared plumbing: training-mode switch, data format, single images.

    Subclasses implement ``augment(x)`` on a channels-first float or integer batch (N, C, H, W).
    """

    def __init__(self, data_format: str, generator: torch.Generator | None) -> None:
        super().__init__()
        if data_format not in ("channels_last", "channels_first"):
            raise ConfigError(
                f"expected data_format='channels_last' or 'channels_first', "
                f"received data_format={data_format!r}"
            )
        self.data_format = data_format
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        return self._to_input_layout(self.augment(self._to_channels_first(x)), x.ndim)

    def _to_channels_first(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim not in (3, 4):
            raise ShapeError(
                f"{type(self).__name__} expects images of shape (N, H, W, C) or (N, C, H, W) "
                f"(or one image without N), received shape {tuple(x.shape)}"
            )
        if x.ndim == 3:
            x = x.unsqueeze(0)
        return x.permute(0, 3, 1, 2) if self.data_format == "channels_last" else x

    def _to_input_layout(self, x: torch.Tensor, ndim: int) -> torch.Tensor:
        if self.data_format == "channels_last":
            x = x.permute(0, 2, 3, 1)
        return x.squeeze(0) if ndim == 3 else x

    def augment(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C, H, W)
        raise NotImplementedError
