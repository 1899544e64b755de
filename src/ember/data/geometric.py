"""Random geometric augmentations: translation, rotation and zoom as affine warps, and crops.

Rotation, zoom and translation are one batched ``affine_grid`` + ``grid_sample`` each; inside
:class:`~ember.data.augment.Augment`, consecutive ones are composed into a single resampling.

Example:
    >>> import torch
    >>> rotate = RandomRotation(0.05)
    >>> rotate(torch.rand(8, 32, 32, 3)).shape
    torch.Size([8, 32, 32, 3])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.data.augment_base import BatchAugmentation, uniform
from ember.errors import ConfigError

FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


def _factor_range(name: str, factor: float | Sequence[float]) -> tuple[float, float]:
    """Keras' convention: a number ``f`` means [-f, f]; a pair means [low, high]."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < 0:
            raise ConfigError(
                f"expected a non-negative number or a (low, high) pair, received {name}={factor!r}"
            )
        return -float(factor), float(factor)
    if isinstance(factor, Sequence) and len(factor) == 2 and factor[0] <= factor[1]:
        return float(factor[0]), float(factor[1])
    raise ConfigError(
        f"expected a number or a (low, high) pair with low <= high, received {name}={factor!r}"
    )


# -- affine warps ----------------------------------------------------------------------------------
def _warp(
    x: torch.Tensor, matrices: torch.Tensor, fill_mode: str, fill_value: float, interpolation: str
) -> torch.Tensor:
    """Resample ``x`` (N, C, H, W) through ``matrices`` (N, 3, 3), filling outside pixels."""
    images = x if x.is_floating_point() else x.float()
    theta = matrices[:, :2, :].to(images.dtype)  # (N, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    fill = fill_value if fill_mode == "constant" else 0.0
    # grid_sample fills with zeros; sampling (x - fill) and adding fill back fills with `fill`.
    warped = F.grid_sample(
        images - fill,
        grid,
        mode=interpolation,
        padding_mode=FILL_MODES[fill_mode],
        align_corners=False,
    )
    warped = warped + fill
    return warped if x.is_floating_point() else warped.round().to(x.dtype)


def _matrices(n: int, device: torch.device) -> torch.Tensor:
    return torch.eye(3, device=device).repeat(n, 1, 1)  # (N, 3, 3)


class AffineWarp(BatchAugmentation):
    """An affine transform: a subclass gives ``inverse_matrices(x)``, this class resamples.

    ``inverse_matrices`` returns (N, 3, 3) float32 matrices mapping each output pixel to where it
    is read from, in ``affine_grid``'s normalised coordinates ([-1, 1] across the image,
    ``align_corners=False``). :class:`~ember.data.augment.Augment` composes consecutive warps
    into one resampling with :meth:`warp_chain`.

    Example:
        >>> RandomRotation(0.1).composes_with(RandomZoom(0.2, fill_mode="nearest"))
        False
    """

    def __init__(
        self,
        fill_mode: str,
        fill_value: float,
        interpolation: str,
        data_format: str,
        generator: torch.Generator | None,
    ) -> None:
        super().__init__(data_format, generator)
        if fill_mode not in FILL_MODES:
            raise ConfigError(
                f"expected fill_mode in {sorted(FILL_MODES)}, received fill_mode={fill_mode!r}"
            )
        if interpolation not in ("bilinear", "nearest"):
            raise ConfigError(
                f"expected interpolation='bilinear' or 'nearest', "
                f"received interpolation={interpolation!r}"
            )
        self.fill_mode, self.fill_value, self.interpolation = fill_mode, fill_value, interpolation

    def inverse_matrices(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 3) float32
        raise NotImplementedError

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        matrices = self.inverse_matrices(x)
        return _warp(x, matrices, self.fill_mode, self.fill_value, self.interpolation)

    def composes_with(self, other: nn.Module) -> bool:
        """True if ``other`` is a warp that fills, interpolates and lays out alike."""
        return isinstance(other, AffineWarp) and (
            self.fill_mode,
            self.fill_value,
            self.interpolation,
            self.data_format,
        ) == (other.fill_mode, other.fill_value, other.interpolation, other.data_format)

    def warp_chain(self, others: list[AffineWarp], x: torch.Tensor) -> torch.Tensor:
        """This warp, then each of ``others`` (all :meth:`composes_with` it), in one resampling."""
        images = self._to_channels_first(x)
        # Output pixel p of the last warp reads p' = M_last p from its input, which read M_prev p'
        # from its own input ...: the whole chain reads (M_1 M_2 ... M_k) p from the original.
        matrices = self.inverse_matrices(images)
        for other in others:
            matrices = matrices @ other.inverse_matrices(images)
        warped = _warp(images, matrices, self.fill_mode, self.fill_value, self.interpolation)
        return self._to_input_layout(warped, x.ndim)


class RandomTranslation(AffineWarp):
    """Shift each image by a random fraction of its height and width (Keras' factors).

    ``height_factor=0.1`` shifts by up to 10% of the height either way, ``(-0.2, 0.1)`` by 20%
    up to 10% down; positive is down / right. Uncovered pixels get ``fill_value``
    (``fill_mode="constant"``; Keras' default ``"reflect"`` and ``"nearest"`` are available).

    Example:
        >>> shift = RandomTranslation((0.25, 0.25), 0.0)  # always down by a quarter
        >>> shift(torch.ones(1, 4, 4, 1))[0, :, 0, 0].tolist()
        [0.0, 1.0, 1.0, 1.0]
    """

    def __init__(
        self,
        height_factor: float | Sequence[float],
        width_factor: float | Sequence[float],
        fill_value: float = 0.0,
        *,
        fill_mode: str = "constant",
        interpolation: str = "bilinear",
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(fill_mode, fill_value, interpolation, data_format, generator)
        self.height_range = _factor_range("height_factor", height_factor)
        self.width_range = _factor_range("width_factor", width_factor)

    def inverse_matrices(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 3) float32
        n, device = len(x), x.device
        down = uniform(n, *self.height_range, self.generator, device)  # fraction of the height
        right = uniform(n, *self.width_range, self.generator, device)
        matrices = _matrices(n, device)
        # The image spans 2 normalised units: a shift of f * size is 2 f; read from behind it.
        matrices[:, 0, 2] = -2 * right
        matrices[:, 1, 2] = -2 * down
        return matrices


class RandomRotation(AffineWarp):
    """Rotate each image about its centre by a random angle, a fraction of a full turn (Keras).

    ``factor=0.1`` rotates by up to 36 degrees either way; a pair gives (low, high); positive is
    counter-clockwise.

    Example:
        >>> rotate = RandomRotation((0.5, 0.5))  # always half a turn
        >>> image = torch.arange(4.0).view(1, 2, 2, 1)
        >>> rotate(image).flatten().round().tolist()
        [3.0, 2.0, 1.0, 0.0]
    """

    def __init__(
        self,
        factor: float | Sequence[float],
        *,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        interpolation: str = "bilinear",
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(fill_mode, fill_value, interpolation, data_format, generator)
        self.factor_range = _factor_range("factor", factor)

    def inverse_matrices(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 3) float32
        n, device = len(x), x.device
        height, width = x.shape[-2], x.shape[-1]
        angle = 2 * math.pi * uniform(n, *self.factor_range, self.generator, device)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # In pixels (y pointing down) the output->input map of a counter-clockwise turn is
        # [[cos, -sin], [sin, cos]]; normalised coordinates scale x by 2/width and y by 2/height.
        matrices = _matrices(n, device)
        matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin * height / width
        matrices[:, 1, 0], matrices[:, 1, 1] = sin * width / height, cos
        return matrices


class RandomZoom(AffineWarp):
    """Zoom each image about its centre by a random factor (Keras' convention).

    ``height_factor=0.2`` zooms by -20% to +20%: positive zooms *out* (the image shrinks), negative
    zooms in. ``width_factor=None`` uses the height's zoom (aspect ratio kept).

    Example:
        >>> zoom = RandomZoom((1.0, 1.0))  # always out, to half size
        >>> zoom(torch.ones(1, 4, 4, 1))[0, :, :, 0].sum().item()
        4.0
    """

    def __init__(
        self,
        height_factor: float | Sequence[float],
        width_factor: float | Sequence[float] | None = None,
        *,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        interpolation: str = "bilinear",
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(fill_mode, fill_value, interpolation, data_format, generator)
        self.height_range = _factor_range("height_factor", height_factor)
        self.width_range = (
            None if width_factor is None else _factor_range("width_factor", width_factor)
        )
        if self.height_range[0] <= -1 or (self.width_range and self.width_range[0] <= -1):
            raise ConfigError(
                f"zoom factors must be > -1 (a zoom of -100% or more is not an image), received "
                f"height_factor={height_factor!r}, width_factor={width_factor!r}"
            )

    def inverse_matrices(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 3) float32
        n, device = len(x), x.device
        zoom_y = 1 + uniform(n, *self.height_range, self.generator, device)
        zoom_x = (
            zoom_y
            if self.width_range is None
            else (1 + uniform(n, *self.width_range, self.generator, device))
        )
        matrices = _matrices(n, device)
        matrices[:, 0, 0], matrices[:, 1, 1] = zoom_x, zoom_y
        return matrices


# -- crops ----------------------------------------------------------------------------------------
class RandomCrop(BatchAugmentation):
    """Pad by ``padding`` pixels (with ``fill_value``), then crop a random ``height x width`` part.

    The CIFAR recipe is ``RandomCrop(32, 32, padding=4)``. In eval mode an image of another size
    is centre-cropped (or padded) to ``height x width``, so shapes match in both modes.

    Example:
        >>> crop = RandomCrop(4, 4, padding=1, generator=torch.Generator().manual_seed(0))
        >>> out = crop(torch.ones(2, 4, 4, 3))
        >>> out.shape, 9 <= out[0, :, :, 0].sum().item() <= 16
        (torch.Size([2, 4, 4, 3]), True)
    """

    def __init__(
        self,
        height: int,
        width: int,
        padding: int = 0,
        fill_value: float = 0.0,
        *,
        data_format: str = "channels_last",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(data_format, generator)
        height = checks.positive_int("height", height)
        width = checks.positive_int("width", width)
        padding = checks.non_negative_int("padding", padding)
        self.height, self.width, self.padding, self.fill_value = height, width, padding, fill_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return super().forward(x)
        images = self._to_channels_first(x)
        if images.shape[-2:] == (self.height, self.width):
            return x
        return self._to_input_layout(self._centre(images), x.ndim)

    def _padded(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Pad so that the image is at least ``height x width`` (and by ``padding`` all round)."""
        extra_y, extra_x = max(height - x.shape[-2], 0), max(width - x.shape[-1], 0)
        top, left = extra_y // 2, extra_x // 2
        pads = (left, extra_x - left, top, extra_y - top)
        if not any(pads):
            return x
        return F.pad(x, pads, value=self.fill_value)

    def _centre(self, x: torch.Tensor) -> torch.Tensor:
        x = self._padded(x, self.height, self.width)
        top = (x.shape[-2] - self.height) // 2
        left = (x.shape[-1] - self.width) // 2
        return x[..., top : top + self.height, left : left + self.width]

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        p = self.padding
        if p:
            x = F.pad(x, (p, p, p, p), value=self.fill_value)
        x = self._padded(x, self.height, self.width)
        n, device = len(x), x.device
        spare_y, spare_x = x.shape[-2] - self.height, x.shape[-1] - self.width
        top = (uniform(n, 0, 1, self.generator, device) * (spare_y + 1)).long().clamp(max=spare_y)
        left = (uniform(n, 0, 1, self.generator, device) * (spare_x + 1)).long().clamp(max=spare_x)
        rows = top[:, None] + torch.arange(self.height, device=device)  # (N, height)
        columns = left[:, None] + torch.arange(self.width, device=device)  # (N, width)
        batch = torch.arange(n, device=device)[:, None, None]
        # Advanced indexing around the channel slice puts the indexed axes first: (N, h, w, C).
        crops = x[batch, :, rows[:, :, None], columns[:, None, :]]
        return crops.permute(0, 3, 1, 2)
