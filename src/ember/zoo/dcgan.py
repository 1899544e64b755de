"""DCGAN (Radford et al. 2016): a convolutional generator and discriminator for small images.

The generator maps a latent vector to an image: one linear layer to a small feature map, then
stride-2 transposed convolutions, each doubling height and width, with batch norm and ReLU, and
``tanh`` at the end, so images come out in ``[-1, 1]``. The discriminator mirrors it: stride-2
convolutions with leaky ReLU, then one linear layer to a single logit per image.

Both take and return Keras-style channels-last ``(N, H, W, C)`` images and run in torch's
channels-last memory format. Square images whose side halves at least twice down to a small
map work: 28x28 (7x7 map) and 32x32 (4x4 map) among them.

Class conditioning (a conditional GAN, Mirza and Osindero 2014): with ``num_classes`` the
generator multiplies the latent vector elementwise by a learned embedding of the label (as
AC-GAN implementations do), and the discriminator either reads the label as ``num_classes``
one-hot channels beside the image's own, or (``class_outputs``, for AC-GAN) predicts it.
Measured on Fashion-MNIST (``benchmarks/generative.py``), the earlier design, the label
embedding concatenated to the noise and a projection discriminator (Miyato and Koyama 2018),
made nearly one image per class: the generator ignored its noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError

# Size of the generator's label embedding: a few dozen features are plenty for 10 classes.
NORMALIZATIONS = ("batch", "layer", "none")


class DCGANGenerator(nn.Module):
    """Latent vectors ``(N, latent_size)`` (and labels ``(N,)``) -> images ``(N, H, W, C)``.

    Its images are in [-1, 1] (``tanh``), as the :class:`ember.tasks.gan.GAN` task expects.

    Args:
        latent_size: length of the latent vector.
        image_shape: ``(H, W, C)`` of the images to make, e.g. ``(28, 28, 1)`` or ``(32, 32, 3)``.
        width: channels of the last hidden layer; each earlier one has twice as many.
        num_classes: for a conditional generator, how many classes its labels take.

    Example:
        >>> import torch
        >>> generator = DCGANGenerator(16, (28, 28, 1), width=8)
        >>> generator(torch.randn(2, 16)).shape
        torch.Size([2, 28, 28, 1])
    """

    def __init__(
        self,
        latent_size: int = 100,
        image_shape: Sequence[int] = (28, 28, 1),
        width: int = 64,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        latent_size = checks.positive_int("latent_size", latent_size)
        width = checks.positive_int("width", width)
        self.image_shape = _check_image_shape(image_shape)
        self.latent_size, self.num_classes = latent_size, _check_classes(num_classes)
        upsamplings, base = _upsamplings(self.image_shape[0])
        channels = width * 2 ** (upsamplings - 1)  # halved by each upsampling but the last
        self.label_embedding = None
        if num_classes is not None:  # scales the noise: a label cannot be used without it
            self.label_embedding = nn.Embedding(num_classes, latent_size)
        self.project = nn.Sequential(
            nn.Linear(latent_size, channels * base * base, bias=False),
            nn.Unflatten(1, (channels, base, base)),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for _ in range(upsamplings - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, padding=1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, self.image_shape[2], 4, 2, padding=1), nn.Tanh()]
        self.upsample = nn.Sequential(*layers)
        _init_dcgan_weights(self)
        self.to(memory_format=torch.channels_last)

    def forward(self, latents: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if latents.ndim != 2 or latents.shape[1] != self.latent_size:
            raise ShapeError(
                f"DCGANGenerator expects latent vectors (N, {self.latent_size}), received shape "
                f"{tuple(latents.shape)}. Fix: draw torch.randn(n, {self.latent_size})."
            )
        if self.label_embedding is not None:
            labels = _check_labels(labels, len(latents), self.num_classes, "DCGANGenerator")
            latents = latents * self.label_embedding(labels)
        x = self.project(latents)  # (N, channels, base, base)
        x = self.upsample(x)  # (N, C, H, W), in [-1, 1]
        return x.permute(0, 2, 3, 1)  # (N, H, W, C)


class DCGANDiscriminator(nn.Module):
    """Images ``(N, H, W, C)`` (and labels ``(N,)``) -> one logit per image, ``(N,)``.

    Args:
        image_shape: ``(H, W, C)`` of the images it judges.
        width: channels of the first convolution; each later one has twice as many.
        num_classes: for a conditional discriminator, how many classes (the label enters as
            that many one-hot channels beside the image's).
        class_outputs: for an AC-GAN discriminator (Odena et al. 2017), how many classes it
            predicts: it then returns ``(N, 1 + class_outputs)``, the realness logit and then
            the class logits, and takes no labels.
        normalization: ``"batch"`` (DCGAN), ``"layer"`` (per-image, as WGAN-GP asks: its
            gradient penalty is taken per image, which batch norm would mix) or ``"none"``.

    Example:
        >>> import torch
        >>> discriminator = DCGANDiscriminator((28, 28, 1), width=8, num_classes=10)
        >>> discriminator(torch.rand(3, 28, 28, 1), torch.tensor([0, 4, 9])).shape
        torch.Size([3])
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        width: int = 64,
        num_classes: int | None = None,
        normalization: str = "batch",
        class_outputs: int | None = None,
    ) -> None:
        super().__init__()
        width = checks.positive_int("width", width)
        if class_outputs is not None and num_classes is not None:
            raise ConfigError(
                "a discriminator that predicts the class (class_outputs) must not also read it "
                "(num_classes): it would copy the label. Fix: pass one of them."
            )
        checks.one_of("normalization", normalization, NORMALIZATIONS)
        self.image_shape = _check_image_shape(image_shape)
        self.num_classes = _check_classes(num_classes)
        self.class_outputs = _check_classes(class_outputs)
        downsamplings, base = _upsamplings(self.image_shape[0])
        channels = width
        # DCGAN leaves the first layer unnormalised: the images' own scale carries information.
        inputs = self.image_shape[2] + (self.num_classes or 0)
        layers: list[nn.Module] = [
            nn.Conv2d(inputs, channels, 4, 2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for _ in range(downsamplings - 1):
            layers += [
                nn.Conv2d(channels, channels * 2, 4, 2, padding=1, bias=normalization == "none"),
                _normalization(normalization, channels * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels *= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.feature_size = channels * base * base
        self.head = nn.Linear(self.feature_size, 1 + (self.class_outputs or 0))
        _init_dcgan_weights(self)
        self.to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            height, width, channels = self.image_shape
            raise ShapeError(
                f"DCGANDiscriminator expects channels-last images (N, {height}, {width}, "
                f"{channels}), received shape {tuple(images.shape)}. Fix: for (N, C, H, W) data "
                f"pass x.permute(0, 2, 3, 1), or build it for this image_shape."
            )
        if self.num_classes is not None:
            labels = _check_labels(labels, len(images), self.num_classes, "DCGANDiscriminator")
            one_hot = nn.functional.one_hot(labels, self.num_classes).to(images.dtype)
            planes = one_hot[:, None, None, :].expand(-1, *images.shape[1:3], -1)
            images = torch.cat([images, planes], dim=3)  # (N, H, W, C + num_classes)
        features = self.features(images.permute(0, 3, 1, 2))  # (N, feature_size)
        scores = self.head(features)  # (N, 1) or, with class outputs, (N, 1 + classes)
        return scores if self.class_outputs else scores.squeeze(1)


def _upsamplings(side: int) -> tuple[int, int]:
    """How many times ``side`` halves (while even and above 4), and the smallest map's side."""
    steps = 0
    while side % 2 == 0 and side > 4:
        side //= 2
        steps += 1
    return steps, side


def _check_image_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(image_shape)
    valid = len(shape) == 3 and all(isinstance(s, int) and s > 0 for s in shape)
    if not valid or shape[0] != shape[1] or _upsamplings(shape[0])[0] < 2:
        raise ConfigError(
            f"DCGAN makes square images (H, W, C) whose side halves at least twice, e.g. "
            f"(28, 28, 1) or (32, 32, 3); received image_shape={image_shape!r}. Fix: resize "
            f"or pad the images to such a shape."
        )
    return shape  # type: ignore[return-value]


def _check_classes(num_classes: int | None) -> int | None:
    # class_outputs is checked here too: its message names num_classes (today's wording).
    return None if num_classes is None else checks.positive_int("num_classes", num_classes)


def _check_labels(
    labels: torch.Tensor | None, size: int, num_classes: int | None, name: str
) -> torch.Tensor:
    if labels is None or labels.shape != (size,) or labels.is_floating_point():
        received = "none" if labels is None else f"{tuple(labels.shape)} {labels.dtype}"
        raise DataError(
            f"{name} is class-conditional ({num_classes} classes): it needs one integer label "
            f"per sample, shape ({size},), received {received}. Fix: pass labels, or build it "
            f"without num_classes."
        )
    return labels


def _normalization(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # one group: normalised over (C, H, W) of each image
    return nn.Identity()


@torch.no_grad()
def _init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: weights from N(0, 0.02), norm scales from N(1, 0.02)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
