"""A small residual CNN (He et al. 2016) for 28x28 grey images such as Fashion-MNIST.

A 3x3 stem (optionally followed by a 2x2 max pool), then one stage per entry of ``widths``: each
stage after the first halves the image with a stride-2 block, every block is two 3x3 convolutions
with batch norm and a shortcut. A global average pool (or, with ``head="flatten"``, the whole last
feature map) and one linear layer give the logits. Inputs are Keras-style channels-last
``(N, H, W, C)`` floats; the network runs in torch's channels-last memory format, which is the
fast one for convolutions on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError


class BasicBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``; the shortcut projects when shapes change."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        # Each block starts as the identity (zero scale on its last norm): Goyal et al. 2017.
        nn.init.zeros_(self.bn2.weight)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class SmallResNet(nn.Module):
    """A small ResNet for channels-last images; returns logits.

    Args:
        num_classes: how many logits to return.
        in_channels: channels of the input images (1 for grey).
        widths: channels of each stage; every stage after the first halves height and width.
        blocks_per_stage: residual blocks in each stage.
        dropout: dropout rate before the final linear layer.
        stem_stride: stride of the first convolution (2 halves the image before the first stage).
        stem_pool: follow the stem by a 2x2 max pool: the stem sees full-resolution detail and
            the stages still run at half resolution.
        head: ``"pool"`` averages the last feature map over space; ``"flatten"`` keeps where
            each feature is, which suits small centred images (the linear layer needs the
            final map's size, so ``image_size`` must then be right).
        image_size: height and width of the input images (used by ``head="flatten"``).

    Example:
        >>> import torch
        >>> net = SmallResNet(widths=(8, 16), blocks_per_stage=1)
        >>> net(torch.rand(2, 28, 28, 1)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        widths: Sequence[int] = (32, 64, 128),
        blocks_per_stage: int = 1,
        dropout: float = 0.0,
        stem_stride: int = 1,
        stem_pool: bool = False,
        head: str = "pool",
        image_size: int = 28,
    ) -> None:
        super().__init__()
        num_classes = checks.positive_int("num_classes", num_classes)
        in_channels = checks.positive_int("in_channels", in_channels)
        blocks_per_stage = checks.positive_int("blocks_per_stage", blocks_per_stage)
        stem_stride = checks.positive_int("stem_stride", stem_stride)
        image_size = checks.positive_int("image_size", image_size)
        # As a tuple first, so that the message shows the widths as one.
        widths = checks.positive_ints("widths", tuple(widths), allow_empty=False)
        checks.number_in("dropout", dropout, 0, 1)
        if head not in ("pool", "flatten"):
            raise ConfigError(f"expected head='pool' or head='flatten', received head={head!r}")
        self.in_channels = in_channels
        self.image_size = image_size if head == "flatten" else None
        stem: list[nn.Module] = [
            nn.Conv2d(in_channels, widths[0], 3, stem_stride, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        ]
        size = _conv_out(image_size, stride=stem_stride)
        if stem_pool:
            stem.append(nn.MaxPool2d(2))
            size //= 2
        self.stem = nn.Sequential(*stem)
        blocks = []
        channels = widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                blocks.append(BasicBlock(channels, width, stride))
                channels = width
                size = _conv_out(size, stride=stride)
        if size < 1:
            raise ConfigError(
                f"{len(widths)} stages shrink {image_size}x{image_size} images to nothing. "
                f"Fix: use fewer widths, stem_stride=1 or stem_pool=False."
            )
        self.blocks = nn.Sequential(*blocks)
        # Flattening keeps where a feature is: for small, centred images (a shoe's toe is always
        # on the left) that beats averaging it away, at the cost of more head weights.
        self.pool = nn.AdaptiveAvgPool2d(1) if head == "pool" else nn.Identity()
        features = channels if head == "pool" else channels * size * size
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(features, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, H, W, C) -> (N, num_classes)
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ShapeError(
                f"SmallResNet expects channels-last images (N, H, W, {self.in_channels}), "
                f"received shape {tuple(x.shape)}. Fix: for (N, C, H, W) data pass "
                f"x.permute(0, 2, 3, 1); for (N, H, W) add a channel axis, x[..., None]."
            )
        if self.image_size is not None and tuple(x.shape[1:3]) != (self.image_size,) * 2:
            raise ShapeError(
                f"SmallResNet(head='flatten') was built for {self.image_size}x{self.image_size} "
                f"images, received shape {tuple(x.shape)}. Fix: build it with "
                f"image_size={x.shape[1]} (square images), or use head='pool'."
            )
        # A free view: channels-last data seen as (N, C, H, W), which torch runs as channels_last.
        x = x.permute(0, 3, 1, 2)  # (N, C, H, W)
        x = self.stem(x)  # (N, widths[0], H / stem_stride, W / stem_stride)
        x = self.blocks(x)  # (N, widths[-1], h, w), h and w halved once per stage after the first
        x = self.pool(x).flatten(1)  # (N, widths[-1]) or, with head="flatten", (N, widths[-1]*h*w)
        return self.head(self.dropout(x))  # (N, num_classes)


def _conv_out(size: int, stride: int) -> int:
    """Output size of a 3x3, padding-1 convolution with this stride."""
    return (size - 1) // stride + 1
