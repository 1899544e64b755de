"""Keras' image resizing layers, Resizing and CenterCrop, and the resize they share with the
augmentation layers (:mod:`ember.layers.augmentation_layers`).

Images are channels-last, ``(N, H, W, C)`` (or one image ``(H, W, C)``), as in Keras, and the
numbers match Keras 3 on its torch backend (``tests/layers/test_preprocessing.py``).

Example:
    >>> import torch
    >>> Resizing(16, 16)(torch.rand(2, 32, 48, 3)).shape
    torch.Size([2, 16, 16, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer
from ember.layers.registry import LAYERS

# Keras' names for torch's modes (its torch backend maps "nearest" to "nearest-exact").
_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def as_float(x: torch.Tensor) -> torch.Tensor:
    """``x`` as floats: integer images become float32, as Keras casts them to its compute dtype."""
    return x if x.is_floating_point() else x.float()


def image_batch(x: Any, layer: str) -> tuple[torch.Tensor, bool]:
    """``x`` as an ``(N, H, W, C)`` tensor, and whether it was a single ``(H, W, C)`` image."""
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    if x.dim() not in (3, 4):
        raise ShapeError(
            f"{layer} expects images of shape (N, H, W, C) or one image (H, W, C), received "
            f"shape {tuple(x.shape)}. Fix: add the missing axis, e.g. x.unsqueeze(-1) for "
            f"grey images."
        )
    return (x.unsqueeze(0), True) if x.dim() == 3 else (x, False)


def aspect_crop(height: int, width: int, target: tuple[int, int]) -> tuple[int, int, int, int]:
    """Keras' centred window of ``target``'s aspect ratio: ``(top, left, height, width)``.

    Example:
        >>> aspect_crop(8, 6, (4, 4))
        (1, 0, 6, 6)
    """
    crop_height = max(min(height, int(float(width * target[0]) / target[1])), 1)
    crop_width = max(min(width, int(float(height * target[1]) / target[0])), 1)
    return (
        int(float(height - crop_height) / 2),
        int(float(width - crop_width) / 2),
        crop_height,
        crop_width,
    )


def resize_images(
    images: torch.Tensor,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_value: float = 0.0,
    antialias: bool = False,
) -> torch.Tensor:
    """Resize ``(N, H, W, C)`` float images to ``size`` exactly as Keras 3's torch backend does.

    Example:
        >>> resize_images(torch.ones(1, 4, 6, 3), (2, 2), crop_to_aspect_ratio=True).shape
        torch.Size([1, 2, 2, 3])
    """
    x = images.permute(0, 3, 1, 2)  # (N, C, H, W), a free view
    height, width = x.shape[-2:]
    if crop_to_aspect_ratio:
        top, left, crop_height, crop_width = aspect_crop(height, width, size)
        x = x[..., top : top + crop_height, left : left + crop_width]
    elif pad_to_aspect_ratio:
        padded_height = max(height, int(float(width * size[0]) / size[1]))
        padded_width = max(width, int(float(height * size[1]) / size[0]))
        # Keras pads the same amount on both sides (its integer half of the difference).
        top, left = int((padded_height - height) / 2), int((padded_width - width) / 2)
        x = F.pad(x, (left, left, top, top), value=fill_value)
    smooth = interpolation in ("bilinear", "bicubic")
    x = F.interpolate(
        x,
        size=size,
        mode=_INTERPOLATIONS[interpolation],
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    return x.permute(0, 2, 3, 1)


def _image_size(height: Any, width: Any) -> tuple[int, int]:
    return checks.positive_int("height", height), checks.positive_int("width", width)


@LAYERS.register()
class Resizing(Layer):
    """Resize images to ``height x width`` (Keras' ``Resizing``, same numbers as its torch backend).

    ``crop_to_aspect_ratio=True`` first crops the largest centred window of the target's aspect
    ratio; ``pad_to_aspect_ratio=True`` pads with ``fill_value`` instead. Integer images stay
    integers (rounded), as in Keras.

    Example:
        >>> Resizing(2, 2)(torch.arange(16.0).view(1, 4, 4, 1))[0, :, :, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_value: float = 0.0,
        antialias: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.size = _image_size(height, width)
        self.interpolation = checks.one_of("interpolation", interpolation, tuple(_INTERPOLATIONS))
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ConfigError(
                "expected at most one of crop_to_aspect_ratio and pad_to_aspect_ratio, received "
                "both True. Fix: choose one."
            )
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = (
            crop_to_aspect_ratio,
            pad_to_aspect_ratio,
        )
        self.fill_value = checks.number("fill_value", fill_value)
        self.antialias = bool(antialias)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        images, single = image_batch(x, "Resizing")
        resized = resize_images(
            as_float(images),
            self.size,
            self.interpolation,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
            self.antialias,
        )
        if not images.is_floating_point():
            bounds = torch.iinfo(images.dtype)
            resized = resized.round().clamp(bounds.min, bounds.max).to(images.dtype)
        return resized[0] if single else resized


@LAYERS.register()
class CenterCrop(Layer):
    """Crop the centred ``height x width`` window (Keras' ``CenterCrop``).

    An image smaller than the target along either side is cropped to the target's aspect ratio
    and resized (bilinear) instead, as Keras does. The output is float.

    Example:
        >>> CenterCrop(2, 2)(torch.arange(16).view(1, 4, 4, 1))[0, :, :, 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(
        self,
        height: int,
        width: int,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.size = _image_size(height, width)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        images, single = image_batch(x, "CenterCrop")
        images = as_float(images)
        height, width = images.shape[1:3]
        if height >= self.size[0] and width >= self.size[1]:
            top, left = (height - self.size[0]) // 2, (width - self.size[1]) // 2
            cropped = images[:, top : top + self.size[0], left : left + self.size[1]]
        else:
            cropped = resize_images(images, self.size, crop_to_aspect_ratio=True)
        return cropped[0] if single else cropped
