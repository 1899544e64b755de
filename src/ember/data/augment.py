"""Random augmentation of image batches on the device, as Keras-style preprocessing layers.

Each transform is an ``nn.Module`` that changes a batch only in training mode (``module.train()``)
and is the identity in eval mode, so it can sit at the front of a ``Sequential``. Batches are
``(N, H, W, C)`` (``data_format="channels_last"``, Keras' default) or ``(N, C, H, W)``
(``"channels_first"``); a single image (3 dimensions) also works. Randomness is drawn for the
whole batch at once (no per-sample Python) from ``generator`` when one is given: put it on the
batch's device to avoid copies.

Rotation, zoom and translation (in :mod:`ember.data.geometric`, with crops) are one batched
``affine_grid`` + ``grid_sample`` each; inside :class:`Augment`, consecutive ones are composed
into a single resampling.

Example:
    >>> import torch
    >>> augment = Augment(RandomFlip("horizontal"), RandomRotation(0.05), GaussianNoise(0.1))
    >>> images = torch.rand(8, 32, 32, 3)
    >>> augment(images).shape
    torch.Size([8, 32, 32, 3])
    >>> torch.equal(augment.eval()(images), images)
    True
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ember import checks
from ember.data.augment_base import BatchAugmentation, uniform
from ember.data.geometric import (
    FILL_MODES,
    AffineWarp,
    RandomCrop,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from ember.errors import ConfigError, DataError

# The geometric transforms live in ember.data.geometric; importable from here as before.
__all__ = [
    "FILL_MODES",
    "Augment",
    "GaussianNoise",
    "RandomCrop",
    "RandomErasing",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
]


class RandomFlip(BatchAugmentation):
    """Flip each image with probability 1/2, horizontally and/or vertically (each independently).

    Example:
        >>> flip = RandomFlip("horizontal", generator=torch.Generator().manual_seed(0))
        >>> image = torch.arange(4.0).view(1, 1, 4, 1)
        >>> flip(image).flatten().tolist() in ([0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0])
        True
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        *,
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(data_format, generator)
        axes = {"horizontal": [3], "vertical": [2], "horizontal_and_vertical": [3, 2]}
        if mode not in axes:
            raise ConfigError(
                f"expected mode='horizontal', 'vertical' or 'horizontal_and_vertical', "
                f"received mode={mode!r}"
            )
        self.mode = mode
        self._axes = axes[mode]

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        for axis in self._axes:
            flip = uniform(len(x), 0.0, 1.0, self.generator, x.device) < 0.5  # (N,)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(axis), x)
        return x


class GaussianNoise(BatchAugmentation):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` (Keras' regularisation layer).

    Example:
        >>> noise = GaussianNoise(0.5, generator=torch.Generator().manual_seed(0))
        >>> round(noise(torch.zeros(100_000, 1, 1, 1)).std().item(), 2)
        0.5
    """

    def __init__(
        self,
        stddev: float,
        *,
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(data_format, generator)
        checks.non_negative_number("stddev", stddev)
        self.stddev = stddev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        if not x.is_floating_point():
            raise DataError(
                f"GaussianNoise needs floating-point images, received dtype {x.dtype}. "
                f"Fix: scale the images to floats first (e.g. x.float() / 255)."
            )
        source = self.generator.device if self.generator is not None else x.device
        noise = torch.randn(x.shape, generator=self.generator, device=source, dtype=x.dtype)
        return x + self.stddev * noise.to(x.device)


class RandomErasing(BatchAugmentation):
    """Erase a random rectangle of each image with probability ``probability`` (Zhong et al. 2017).

    The rectangle covers a fraction of the image drawn uniformly from ``scale``, with an aspect
    ratio (height / width) drawn log-uniformly from ``ratio``, and is set to ``value``. Unlike
    torchvision's retry loop, a rectangle that does not fit is clipped to the image.

    Example:
        >>> erase = RandomErasing(probability=1.0, generator=torch.Generator().manual_seed(0))
        >>> erased = (erase(torch.ones(4, 32, 32, 3)) == 0).float().mean().item()
        >>> 0.01 < erased < 0.34
        True
    """

    def __init__(
        self,
        probability: float = 0.5,
        scale: tuple[float, float] = (0.02, 0.33),
        ratio: tuple[float, float] = (0.3, 3.3),
        value: float = 0.0,
        *,
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(data_format, generator)
        checks.number_in("probability", probability, 0, 1, closed="[]")
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            raise ConfigError(f"expected 0 < low <= high <= 1, received scale={scale!r}")
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ConfigError(f"expected 0 < low <= high, received ratio={ratio!r}")
        self.probability, self.scale, self.ratio, self.value = probability, scale, ratio, value

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, device = len(x), x.device
        height, width = x.shape[-2], x.shape[-1]
        area = height * width * uniform(n, *self.scale, self.generator, device)
        log_ratio = uniform(
            n, math.log(self.ratio[0]), math.log(self.ratio[1]), self.generator, device
        )
        aspect = torch.exp(log_ratio)
        box_height = torch.sqrt(area * aspect).round().clamp(1, height)  # (N,)
        box_width = torch.sqrt(area / aspect).round().clamp(1, width)
        top = (uniform(n, 0, 1, self.generator, device) * (height - box_height + 1)).floor()
        left = (uniform(n, 0, 1, self.generator, device) * (width - box_width + 1)).floor()
        erase = uniform(n, 0, 1, self.generator, device) < self.probability
        rows = torch.arange(height, device=device).view(1, height, 1)
        columns = torch.arange(width, device=device).view(1, 1, width)
        inside = (
            (rows >= top.view(-1, 1, 1))
            & (rows < (top + box_height).view(-1, 1, 1))
            & (columns >= left.view(-1, 1, 1))
            & (columns < (left + box_width).view(-1, 1, 1))
            & erase.view(-1, 1, 1)
        )  # (N, H, W)
        fill = torch.tensor(self.value, dtype=x.dtype, device=device)
        return torch.where(inside[:, None], fill, x)


class Augment(nn.Sequential):
    """Apply transforms in order; consecutive affine ones share one resampling.

    Rotation, zoom and translation that follow each other (with the same fill and interpolation)
    are composed into one matrix per image and resampled once: faster, and sharper than
    interpolating several times.

    Example:
        >>> augment = Augment(RandomFlip("horizontal"), RandomTranslation(0.1, 0.1),
        ...                   RandomRotation(0.1), RandomErasing())
        >>> augment(torch.rand(4, 28, 28, 1)).shape
        torch.Size([4, 28, 28, 1])
    """

    def __init__(self, *transforms: nn.Module) -> None:
        super().__init__(*transforms)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        transforms = list(self)
        index = 0
        while index < len(transforms):
            first = transforms[index]
            run = [first]
            if isinstance(first, AffineWarp) and first.training:
                while (
                    index + len(run) < len(transforms)
                    and transforms[index + len(run)].training
                    and first.composes_with(transforms[index + len(run)])
                ):
                    run.append(transforms[index + len(run)])
            x = first(x) if len(run) == 1 else first.warp_chain(run[1:], x)
            index += len(run)
        return x
