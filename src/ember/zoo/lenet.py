"""LeNet-5 (LeCun et al. 1998) for 28x28 or 32x32 grey images such as MNIST.

Two 5x5 convolutions, each followed by a 2x2 average pool (the paper's "subsampling" layers),
then 120, 84 and ``num_classes`` units. Two simplifications, as in most modern re-creations: the
second convolution sees all six maps (the paper wires each of its 16 maps to a subset), and the
output layer is linear (the paper's are Euclidean RBF units). The paper's C5 is a 5x5
convolution over 5x5 maps, which is exactly a linear layer on the flattened maps; it is written
as one. On 28x28 images the first convolution pads by 2, so both sizes reach the same 5x5 maps.
Input is channels-first ``(N, C, H, W)``.
"""

from __future__ import annotations

import torch
from torch import nn

from ember import checks

# The activations the paper's era used (a scaled tanh) and the one used since (ReLU).
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class LeNet5(nn.Module):
    """LeNet-5; returns logits.

    Args:
        num_classes: how many logits to return.
        in_channels: channels of the input images (1 for grey).
        activation: ``"relu"`` or ``"tanh"`` (the 1998 paper's choice) after each hidden layer.
        image_size: 28 (MNIST-sized: the first convolution pads by 2) or 32 (the paper's size).

    Example:
        >>> import torch
        >>> net = LeNet5(num_classes=10)
        >>> net(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])
        >>> sum(p.numel() for p in net.parameters())
        61706
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        activation: str = "relu",
        image_size: int = 28,
    ) -> None:
        super().__init__()
        num_classes = checks.positive_int("num_classes", num_classes)
        in_channels = checks.positive_int("in_channels", in_channels)
        checks.one_of("activation", activation, tuple(_ACTIVATIONS))
        checks.one_of("image_size", image_size, (28, 32))
        self.in_channels = in_channels
        act = _ACTIVATIONS[activation]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2 if image_size == 28 else 0),  # C1: 6@28x28
            act(),
            nn.AvgPool2d(2),  # S2: 6@14x14
            nn.Conv2d(6, 16, 5),  # C3: 16@10x10
            act(),
            nn.AvgPool2d(2),  # S4: 16@5x5
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),  # C5
            act(),
            nn.Linear(120, 84),  # F6
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, num_classes)
        x = self.features(x)  # (N, 16, 5, 5)
        return self.classifier(x.flatten(1))  # (N, num_classes)
