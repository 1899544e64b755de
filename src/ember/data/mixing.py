"""MixUp and CutMix: batch transforms that blend pairs of images and their labels.

A batch transform is called in a training step as ``x, y = transform(x, y)`` on a batch already
on the device: images ``(N, H, W, C)`` (``data_format="channels_last"``, ember's default) or
``(N, C, H, W)`` with integer labels ``(N,)`` in, mixed images and class probabilities
``(N, num_classes)`` out. Pass one to ``Supervised(..., batch_transform=...)`` or
``Model.compile(..., batch_transform=...)``, which train on the probabilities with
cross-entropy and never mix validation or prediction batches.

The sampling is torchvision's (``transforms.v2.MixUp``/``CutMix``/``RandomChoice``), not ours:
one mixing weight per batch from Beta(alpha, alpha), drawn from torch's global generator
(``ember.set_seed`` makes it repeatable), and each image is paired with its neighbour in the
batch (``x.roll(1, 0)``), so the batches must be shuffled (``fit`` shuffles by default).

Example:
    >>> import torch
    >>> mixup = MixUp(num_classes=10)
    >>> images, labels = torch.rand(8, 32, 32, 3), torch.randint(0, 10, (8,))
    >>> mixed, probabilities = mixup(images, labels)
    >>> mixed.shape, probabilities.shape
    (torch.Size([8, 32, 32, 3]), torch.Size([8, 10]))
    >>> torch.allclose(probabilities.sum(-1), torch.ones(8))
    True
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import torch

from ember import checks
from ember.errors import DataError, ShapeError
from ember.vision_imports import import_torchvision

__all__ = ["CutMix", "MixUp", "MixUpOrCutMix"]

DATA_FORMATS = ("channels_last", "channels_first")


def _transforms_v2() -> ModuleType:
    """``torchvision.transforms.v2``, imported on first use so that ``import ember`` stays fast."""
    import_torchvision()
    return importlib.import_module("torchvision.transforms.v2")


class _LabelMixing:
    """What the mixing transforms share: argument checks, the layout and the label check.

    Subclasses set ``self._transform``, a torchvision transform taking channels-first images
    ``(N, C, H, W)`` and integer labels ``(N,)``.
    """

    def __init__(self, num_classes: int, data_format: str) -> None:
        self.num_classes = checks.int_at_least("num_classes", num_classes, 2)
        self.data_format = checks.one_of("data_format", data_format, DATA_FORMATS)
        self._transform: Any = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        name = type(self).__name__
        if x.ndim != 4:
            raise ShapeError(
                f"{name} expects a batch of images of shape (N, H, W, C) or (N, C, H, W), "
                f"received shape {tuple(x.shape)}. Fix: mix whole batches, not single images."
            )
        if not x.is_floating_point():
            raise DataError(
                f"{name} needs floating-point images, received dtype {x.dtype}. "
                f"Fix: scale the images to floats first (e.g. x.float() / 255)."
            )
        if y.ndim == 2 and y.shape[-1] == 1:
            y = y.squeeze(-1)  # Keras' (N, 1) integer labels
        if y.is_floating_point() or y.dtype == torch.bool or y.ndim != 1 or len(y) != len(x):
            raise DataError(
                f"{name} expects integer class labels of shape ({len(x)},), received labels of "
                f"shape {tuple(y.shape)} and dtype {y.dtype}. Fix: pass class indices (e.g. "
                f"y.argmax(-1) for one-hot labels); it returns the mixed class probabilities."
            )
        channels_last = self.data_format == "channels_last"
        images = x.permute(0, 3, 1, 2) if channels_last else x  # (N, C, H, W), a view
        mixed, probabilities = self._transform(images, y.long())
        return (mixed.permute(0, 2, 3, 1) if channels_last else mixed), probabilities

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({settings})"


class MixUp(_LabelMixing):
    """MixUp (Zhang et al. 2018): ``lam * x + (1 - lam) * x_pair``, the labels likewise.

    ``lam`` is drawn from Beta(alpha, alpha) once per batch. ``alpha=0.2`` is the paper's value
    for ImageNet and the one torchvision's reference recipe trains with (``--mixup-alpha 0.2``;
    KerasCV's default too); torchvision's class default of 1.0 (``lam`` uniform) mixes far more.

    Example:
        >>> import torch
        >>> images = torch.stack([torch.zeros(2, 2, 1), torch.ones(2, 2, 1)])  # (2, H, W, C)
        >>> mixed, probabilities = MixUp(num_classes=2)(images, torch.tensor([0, 1]))
        >>> lam = probabilities[0, 0]  # image 0 keeps lam of itself (class 0), 1 - lam of image 1
        >>> torch.allclose(mixed[0], (1 - lam) * torch.ones(2, 2, 1))
        True
    """

    def __init__(
        self, alpha: float = 0.2, *, num_classes: int, data_format: str = "channels_last"
    ) -> None:
        super().__init__(num_classes, data_format)
        self.alpha = checks.positive_number("alpha", alpha)
        v2 = _transforms_v2()
        self._transform = v2.MixUp(alpha=self.alpha, num_classes=self.num_classes)


class CutMix(_LabelMixing):
    """CutMix (Yun et al. 2019): paste a box of the paired image; labels mix by the box's area.

    The box covers about ``1 - lam`` of the image, ``lam`` drawn from Beta(alpha, alpha) once per
    batch; ``alpha=1.0`` is the paper's, torchvision's and KerasCV's default.

    Example:
        >>> import torch
        >>> images = torch.stack([torch.zeros(8, 8, 1), torch.ones(8, 8, 1)])  # (2, H, W, C)
        >>> mixed, probabilities = CutMix(num_classes=2)(images, torch.tensor([0, 1]))
        >>> pasted = mixed[0].mean()  # the fraction of image 0 that now shows image 1
        >>> torch.allclose(probabilities[0], torch.stack([1 - pasted, pasted]))
        True
    """

    def __init__(
        self, alpha: float = 1.0, *, num_classes: int, data_format: str = "channels_last"
    ) -> None:
        super().__init__(num_classes, data_format)
        self.alpha = checks.positive_number("alpha", alpha)
        v2 = _transforms_v2()
        self._transform = v2.CutMix(alpha=self.alpha, num_classes=self.num_classes)


class MixUpOrCutMix(_LabelMixing):
    """Per batch, CutMix with probability ``cutmix_probability``, else MixUp (timm's switch).

    The defaults are torchvision's reference recipe (MixUp alpha 0.2, CutMix alpha 1.0, each
    picked half the time), which timm's ``switch_prob=0.5`` also uses.

    Example:
        >>> import torch
        >>> mix = MixUpOrCutMix(num_classes=10, cutmix_probability=1.0)  # always CutMix
        >>> mixed, probabilities = mix(torch.rand(4, 8, 8, 3), torch.tensor([0, 1, 2, 3]))
        >>> probabilities.shape
        torch.Size([4, 10])
    """

    def __init__(
        self,
        mixup_alpha: float = 0.2,
        cutmix_alpha: float = 1.0,
        *,
        num_classes: int,
        cutmix_probability: float = 0.5,
        data_format: str = "channels_last",
    ) -> None:
        super().__init__(num_classes, data_format)
        self.mixup_alpha = checks.positive_number("mixup_alpha", mixup_alpha)
        self.cutmix_alpha = checks.positive_number("cutmix_alpha", cutmix_alpha)
        self.cutmix_probability = checks.number_in(
            "cutmix_probability", cutmix_probability, 0, 1, closed="[]"
        )
        v2 = _transforms_v2()
        self._transform = v2.RandomChoice(
            [
                v2.MixUp(alpha=self.mixup_alpha, num_classes=self.num_classes),
                v2.CutMix(alpha=self.cutmix_alpha, num_classes=self.num_classes),
            ],
            p=[1.0 - self.cutmix_probability, self.cutmix_probability],
        )
