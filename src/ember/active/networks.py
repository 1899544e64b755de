"""The classifier active learning retrains each round, and the autoencoder that pretrains it.

Both share one encoder shape: flatten, then ``Linear -> ReLU -> Dropout`` per hidden width. The
classifier is that encoder and a linear head giving class logits; the autoencoder is the same
encoder and a mirrored decoder giving the pixels' logits. So the autoencoder's encoder weights
load into a fresh classifier's ``encoder`` as they are (:func:`classifier_from`).

The dropout layers are what BALD samples from (Monte Carlo dropout), in the classifier; in the
autoencoder they corrupt the hidden codes while it trains, as a denoising autoencoder's noise
does, and they are off when it is used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ember import checks


def mlp_encoder(input_shape: Sequence[int], hidden: Sequence[int], dropout: float) -> nn.Sequential:
    """Flatten, then ``Linear -> ReLU -> Dropout(dropout)`` for each width of ``hidden``.

    Example:
        >>> mlp_encoder((28, 28, 1), (256, 128), 0.3)(torch.rand(2, 28, 28, 1)).shape
        torch.Size([2, 128])
    """
    hidden = checks.positive_ints("hidden", hidden, allow_empty=False)
    dropout = checks.rate("dropout", dropout)
    widths = [math.prod(checks.positive_ints("input_shape", input_shape)), *hidden]
    layers: list[nn.Module] = [nn.Flatten()]
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class Classifier(nn.Module):
    """``encoder`` then a linear ``head``: images ``(N, H, W, C)`` to class logits ``(N, classes)``.

    Example:
        >>> net = Classifier((28, 28, 1), 10, hidden=(64,), dropout=0.2)
        >>> net(torch.rand(3, 28, 28, 1)).shape
        torch.Size([3, 10])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        classes: int,
        *,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.encoder = mlp_encoder(input_shape, hidden, dropout)
        self.head = nn.Linear(checks.positive_ints("hidden", hidden)[-1], classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images))  # (N, classes) logits


class PretrainingAutoencoder(nn.Module):
    """The classifier's encoder and a mirrored decoder, for :class:`ember.Autoencoder`'s task.

    ``encode`` gives the last hidden layer ``(N, hidden[-1])``; ``decode_logits`` the pixels'
    logits in the input's shape (the task's binary cross-entropy takes them as they are).

    Example:
        >>> net = PretrainingAutoencoder((28, 28, 1), hidden=(64, 16), dropout=0.2)
        >>> net(torch.rand(3, 28, 28, 1)).shape
        torch.Size([3, 28, 28, 1])
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        *,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.input_shape = checks.positive_ints("input_shape", input_shape, allow_empty=False)
        self.encoder = mlp_encoder(self.input_shape, hidden, dropout)
        widths = [*reversed(checks.positive_ints("hidden", hidden)), math.prod(self.input_shape)]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers[-1] = nn.Unflatten(1, self.input_shape)  # the last layer gives logits
        self.decoder = nn.Sequential(*layers)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, hidden[-1])`` of images ``(N, H, W, C)``."""
        return self.encoder(images)

    def decode_logits(self, codes: torch.Tensor) -> torch.Tensor:
        """Pixel logits ``(N, H, W, C)`` of codes ``(N, hidden[-1])``."""
        return self.decoder(codes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Reconstructions ``(N, H, W, C)`` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(self.encode(images)))


def classifier_from(encoder: nn.Module | None, network: Classifier) -> Classifier:
    """``network`` with ``encoder``'s weights copied into its encoder (None: left as it is).

    Example:
        >>> auto = PretrainingAutoencoder((4, 4, 1), hidden=(8,), dropout=0.0)
        >>> net = classifier_from(auto.encoder, Classifier((4, 4, 1), 3, hidden=(8,), dropout=0.0))
        >>> torch.equal(net.encoder[1].weight, auto.encoder[1].weight)
        True
    """
    if encoder is not None:
        network.encoder.load_state_dict(encoder.state_dict())
    return network
