"""Keras' random image augmentation layers: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomContrast, RandomBrightness and RandomCrop.

They change a batch only in training mode (``model.fit``, ``module.train()``) and are the
identity in eval mode (``evaluate``, ``predict``, ``module.eval()``), as in Keras; like every
torch module, a new layer starts in training mode. Each draws its random numbers for the whole
batch at once, on the batch's device, from a generator seeded with ``seed`` (torch's global one
when ``seed=None``). The warps, the flips and the crop are ember's batch augmentations
(:mod:`ember.data.geometric`, :mod:`ember.data.augment`), which compute the same resampling as
Keras 3's torch backend; these layers add Keras' arguments, defaults and validation. Images are
``(N, H, W, C)`` or one ``(H, W, C)``; integer images become float32, as in Keras.

Example:
    >>> import torch
    >>> from ember import layers
    >>> augment = torch.nn.Sequential(layers.RandomFlip("horizontal"), layers.RandomRotation(0.1))
    >>> images = torch.rand(8, 32, 32, 3)
    >>> augment(images).shape
    torch.Size([8, 32, 32, 3])
    >>> torch.equal(augment.eval()(images), images)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ember import checks
from ember.data import geometric
from ember.data.augment import RandomFlip as BatchRandomFlip
from ember.data.augment_base import uniform
from ember.errors import ConfigError
from ember.layers.base import Layer
from ember.layers.image_resizing import as_float, image_batch, resize_images
from ember.layers.registry import LAYERS

Factor = float | Sequence[float]
# Keras' fill modes that grid_sample can do ('wrap' it cannot).
_FILL_MODES = ("reflect", "constant", "nearest")


def _factor_range(
    name: str, factor: Any, low: float, high: float, *, open_low: bool = False
) -> tuple[float, float]:
    """Keras' factor convention: a number ``f`` means ``(max(-|f|, low), |f|)``, a pair means
    ``(min, max)``; each number given must lie within ``low``..``high``."""
    pair = isinstance(factor, (list, tuple)) and len(factor) == 2
    values = list(factor) if pair else [factor]
    inside = all(
        checks.is_number(v) and (low < v if open_low else low <= v) and v <= high for v in values
    )
    if not inside:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
        raise ConfigError(
            f"expected a number in {interval} or a pair of them, received {name}={factor!r}"
        )
    if pair:
        return float(min(values)), float(max(values))
    return max(-abs(float(factor)), low), abs(float(factor))


def _fill_mode(fill_mode: Any) -> str:
    if fill_mode == "wrap":
        raise ConfigError(
            "fill_mode='wrap' is not available in ember (torch's grid_sample cannot wrap "
            "around). Fix: use fill_mode='reflect' (Keras' default), 'constant' or 'nearest'."
        )
    return checks.one_of("fill_mode", fill_mode, _FILL_MODES)


def _value_range(value_range: Any) -> tuple[float, float]:
    if not (
        isinstance(value_range, (list, tuple))
        and len(value_range) == 2
        and all(checks.is_number(v) for v in value_range)
    ):
        raise ConfigError(
            f"expected value_range as two numbers (low, high), e.g. (0, 255) or (0, 1), "
            f"received value_range={value_range!r}"
        )
    low, high = sorted(float(v) for v in value_range)
    return low, high


class _RandomImageLayer(Layer):
    """Shared plumbing: image layout, float cast, training switch and the seeded generators.

    Subclasses implement ``augment(images, generator)`` on a float ``(N, H, W, C)`` batch.
    """

    def __init__(
        self, seed: int | None, input_shape: tuple[int, ...] | None, name: str | None
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.seed = None if seed is None else checks.non_negative_int("seed", seed)
        self._generators: dict[torch.device, torch.Generator] = {}

    def generator(self, device: torch.device) -> torch.Generator | None:
        """This layer's generator on ``device``, seeded with ``seed``; None without a seed."""
        if self.seed is None:
            return None
        if device not in self._generators:
            self._generators[device] = torch.Generator(device).manual_seed(self.seed)
        return self._generators[device]

    def call(self, x: torch.Tensor) -> torch.Tensor:
        images, single = image_batch(x, type(self).__name__)
        images = as_float(images)
        if self.training:
            images = self.augment(images, self.generator(images.device))
        return images[0] if single else images

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError


def _run(transform: torch.nn.Module, images: torch.Tensor, generator: Any) -> torch.Tensor:
    """Apply one of ember.data's batch augmentations with this call's generator."""
    transform.generator = generator
    return transform(images)


@LAYERS.register()
class RandomFlip(_RandomImageLayer):
    """Flip each image with probability 1/2: ``"horizontal"`` (left-right), ``"vertical"``
    (top-bottom) or ``"horizontal_and_vertical"``.

    As in Keras 3, ``"horizontal_and_vertical"`` draws once per image and flips both axes
    together, so an image is either unchanged or turned by half a turn.

    Example:
        >>> flip = RandomFlip("horizontal", seed=0)
        >>> flip(torch.arange(3.0).view(1, 1, 3, 1)).flatten().tolist() in ([0, 1, 2], [2, 1, 0])
        True
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        modes = ("horizontal", "vertical", "horizontal_and_vertical")
        self.mode = checks.one_of("mode", mode, modes)
        self.flip = BatchRandomFlip("vertical" if mode == "vertical" else "horizontal")

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        if self.mode != "horizontal_and_vertical":
            return _run(self.flip, images, generator)
        flip = uniform(len(images), 0.0, 1.0, generator, images.device) < 0.5  # (N,)
        return torch.where(flip.view(-1, 1, 1, 1), images.flip((1, 2)), images)


@LAYERS.register()
class RandomRotation(_RandomImageLayer):
    """Rotate each image about its centre by a random fraction of a full turn (Keras' factor:
    ``0.1`` is up to 36 degrees either way, a pair is (low, high); positive is counter-clockwise).

    Example:
        >>> rotate = RandomRotation((0.5, 0.5), fill_mode="constant")  # always half a turn
        >>> rotate(torch.arange(4.0).view(1, 2, 2, 1)).flatten().round().tolist()
        [3.0, 2.0, 1.0, 0.0]
    """

    def __init__(
        self,
        factor: Factor,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.factor = _factor_range("factor", factor, -1, 1)
        self.rotate = geometric.RandomRotation(
            self.factor,
            fill_mode=_fill_mode(fill_mode),
            fill_value=checks.number("fill_value", fill_value),
            interpolation=interpolation,
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _run(self.rotate, images, generator)


@LAYERS.register()
class RandomZoom(_RandomImageLayer):
    """Zoom each image about its centre by a random amount: ``height_factor=0.2`` zooms by -20%
    to +20% (positive zooms *out*, as in Keras); ``width_factor=None`` keeps the aspect ratio.

    Example:
        >>> zoom = RandomZoom((1.0, 1.0), fill_mode="constant")  # always out, to half size
        >>> zoom(torch.ones(1, 4, 4, 1)).sum().item()
        4.0
    """

    def __init__(
        self,
        height_factor: Factor,
        width_factor: Factor | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        height = _factor_range("height_factor", height_factor, -1, 1, open_low=True)
        width = (
            None
            if width_factor is None
            else _factor_range("width_factor", width_factor, -1, 1, open_low=True)
        )
        self.zoom = geometric.RandomZoom(
            height,
            width,
            fill_mode=_fill_mode(fill_mode),
            fill_value=checks.number("fill_value", fill_value),
            interpolation=interpolation,
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _run(self.zoom, images, generator)


@LAYERS.register()
class RandomTranslation(_RandomImageLayer):
    """Shift each image by a random fraction of its height and width: ``0.1`` is up to 10%
    either way, a pair is (low, high); positive is down / right, as in Keras.

    Example:
        >>> shift = RandomTranslation((0.25, 0.25), 0.0, fill_mode="constant")  # a quarter down
        >>> shift(torch.ones(1, 4, 4, 1))[0, :, 0, 0].tolist()
        [0.0, 1.0, 1.0, 1.0]
    """

    def __init__(
        self,
        height_factor: Factor,
        width_factor: Factor,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.translate = geometric.RandomTranslation(
            _factor_range("height_factor", height_factor, -1, 1),
            _factor_range("width_factor", width_factor, -1, 1),
            checks.number("fill_value", fill_value),
            fill_mode=_fill_mode(fill_mode),
            interpolation=interpolation,
        )

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _run(self.translate, images, generator)


@LAYERS.register()
class RandomContrast(_RandomImageLayer):
    """Scale each image's contrast: ``(x - mean) * factor + mean`` per image and channel (the
    mean over height and width), clipped to ``value_range``.

    The factor is drawn from ``[1 - lower, 1 + upper]``. As Keras 3 does, a single number ``f``
    gives ``lower = 0`` (factors in ``[1, 1 + f]``); pass ``(f, f)`` for ``[1 - f, 1 + f]``.

    Example:
        >>> images = torch.tensor([[[[0.4], [0.6]]]])  # one 1 x 2 image; its mean, 0.5, stays
        >>> RandomContrast((0.5, 0.5), value_range=(0, 1), seed=0)(images).mean().item()
        0.5
    """

    def __init__(
        self,
        factor: Factor,
        value_range: Sequence[float] = (0, 255),
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.factor = _factor_range("factor", factor, 0, 1)
        self.value_range = _value_range(value_range)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        lower, upper = self.factor
        factor = uniform(len(images), 1 - lower, 1 + upper, generator, images.device)
        mean = images.mean(dim=(1, 2), keepdim=True)  # (N, 1, 1, C)
        adjusted = (images - mean) * factor.to(images.dtype).view(-1, 1, 1, 1) + mean
        return adjusted.clamp(*self.value_range)


@LAYERS.register()
class RandomBrightness(_RandomImageLayer):
    """Add a random brightness to each image: ``x + delta * (high - low)`` with ``delta`` drawn
    from the factor range (``0.2``: -20% to +20% of ``value_range``), clipped to ``value_range``.

    Example:
        >>> brighten = RandomBrightness((0.5, 0.5), value_range=(0, 1))  # always +0.5
        >>> brighten(torch.tensor([[[[0.25], [0.75]]]])).flatten().tolist()
        [0.75, 1.0]
    """

    def __init__(
        self,
        factor: Factor,
        value_range: Sequence[float] = (0, 255),
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.factor = _factor_range("factor", factor, -1, 1)
        self.value_range = _value_range(value_range)

    def augment(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        low, high = self.value_range
        delta = uniform(len(images), *self.factor, generator, images.device) * (high - low)
        return (images + delta.to(images.dtype).view(-1, 1, 1, 1)).clamp(low, high)


@LAYERS.register()
class RandomCrop(_RandomImageLayer):
    """Crop a random ``height x width`` window of each image while training (Keras' layer).

    Each image gets its own window (Keras draws one per batch). In eval mode, and for an image
    smaller than the target, the largest centred window of the target's aspect ratio is resized
    to ``height x width`` instead, as Keras documents, so the output shape is the same in both
    modes.

    Example:
        >>> crop = RandomCrop(4, 4, seed=0)
        >>> crop(torch.rand(2, 8, 6, 3)).shape, crop.eval()(torch.rand(2, 8, 6, 3)).shape
        (torch.Size([2, 4, 4, 3]), torch.Size([2, 4, 4, 3]))
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(seed, input_shape, name)
        self.size = checks.positive_int("height", height), checks.positive_int("width", width)
        self.crop = geometric.RandomCrop(*self.size)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        images, single = image_batch(x, "RandomCrop")
        images = as_float(images)
        height, width = images.shape[1:3]
        if (height, width) != self.size:
            if self.training and height >= self.size[0] and width >= self.size[1]:
                images = _run(self.crop, images, self.generator(images.device))
            else:
                images = resize_images(images, self.size, crop_to_aspect_ratio=True)
        return images[0] if single else images
