"""Autoencoders: an encoder squeezes an image into a short code, a decoder rebuilds the image.

Both models take and return channels-last images ``(N, H, W, C)`` with values in [0, 1], as
ember's image datasets give them. The code is a plain linear layer's output ``(N, code_size)``
(no activation, so codes can be plotted or scored as they are). The decoder's last layer gives
logits and :meth:`decode` applies the sigmoid, so a loss can use the logits directly (stable
binary cross-entropy; see :class:`ember.tasks.autoencoder.Autoencoder`).

The bottleneck is *undercomplete* when ``code_size`` is smaller than the number of input values:
the network cannot copy its input and must learn the data's main directions of variation.
Larger codes are allowed (a sparse or denoising autoencoder can still learn useful features).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError


def layer_sizes(name: str, values: Any, *, allow_empty: bool = True) -> tuple[int, ...]:
    """``values`` (one integer, or a sequence of them) as a tuple of positive integers.

    Unlike :func:`ember.checks.positive_ints`, the message shows the sizes as a tuple, and an
    empty one is "a sequence" even when ``allow_empty`` is False (the models' wording).

    Example:
        >>> layer_sizes("hidden", [64, 32]), layer_sizes("code_size", 8)
        ((64, 32), (8,))
        >>> layer_sizes("hidden", [64, 0])
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a sequence of positive integers, received hidden=(64, 0)
    """
    if isinstance(values, int):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError:
        raise ConfigError(
            f"expected a sequence of positive integers, received {name}={values!r}"
        ) from None
    if (not values and not allow_empty) or any(not checks.is_int(v) or v <= 0 for v in values):
        raise ConfigError(f"expected a sequence of positive integers, received {name}={values!r}")
    return tuple(int(v) for v in values)


class _Permute(nn.Module):
    """Reorder axes: moves channels between (N, H, W, C) data and torch's (N, C, H, W) convs."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)  # a view: no copy


class _AutoencoderBase(nn.Module):
    """``encode``/``decode``/``forward`` shared by the dense and convolutional models."""

    encoder: nn.Module
    decoder: nn.Module

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, code_size)`` for images ``(N, H, W, C)``."""
        return self.encoder(x)

    def decode_logits(self, code: torch.Tensor) -> torch.Tensor:
        """Reconstructions before the sigmoid, ``(N, H, W, C)``."""
        return self.decoder(code)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """Images ``(N, H, W, C)`` in [0, 1] for codes ``(N, code_size)``."""
        return torch.sigmoid(self.decoder(code))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstructions ``(N, H, W, C)`` in [0, 1] of images ``(N, H, W, C)``."""
        return self.decode(self.encode(x))


class DenseAutoencoder(_AutoencoderBase):
    """Fully connected autoencoder: flatten, ReLU layers ``hidden``, a linear code, and back.

    The decoder mirrors the encoder (``hidden`` in reverse) and ends in a sigmoid.

    Args:
        input_shape: per-image shape, e.g. ``(28, 28, 1)``.
        hidden: sizes of the encoder's hidden layers (the decoder's, reversed); may be empty.
        code_size: length of the code (the bottleneck).

    Example:
        >>> net = DenseAutoencoder((28, 28, 1), hidden=(64,), code_size=2)
        >>> images = torch.rand(5, 28, 28, 1)
        >>> net.encode(images).shape
        torch.Size([5, 2])
        >>> net(images).shape
        torch.Size([5, 28, 28, 1])
    """

    def __init__(
        self, input_shape: Sequence[int], hidden: Sequence[int] = (256,), code_size: int = 32
    ) -> None:
        super().__init__()
        self.input_shape = layer_sizes("input_shape", input_shape, allow_empty=False)
        self.code_size = checks.positive_int("code_size", code_size)
        hidden = layer_sizes("hidden", hidden)
        size = math.prod(self.input_shape)
        widths = [size, *hidden]
        encoder: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            encoder += [nn.Linear(width_in, width_out), nn.ReLU()]
        encoder.append(nn.Linear(widths[-1], code_size))  # linear code: no activation
        decoder: list[nn.Module] = []
        widths = [code_size, *reversed(hidden)]
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            decoder += [nn.Linear(width_in, width_out), nn.ReLU()]
        decoder += [nn.Linear(widths[-1], size), nn.Unflatten(1, self.input_shape)]  # logits
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)


class ConvAutoencoder(_AutoencoderBase):
    """Convolutional autoencoder: strided 3x3 convolutions down, a linear code, transposed ones up.

    Each encoder convolution halves the height and width (rounding up), so ``filters=(32, 64)``
    turns 28x28 images into 7x7x64 maps before the code. The decoder runs the same steps in
    reverse with transposed convolutions, sized to give back exactly ``input_shape``.

    Args:
        input_shape: per-image shape ``(H, W, C)``, channels last.
        code_size: length of the code (the bottleneck).
        filters: output channels of the encoder's convolutions, in order.

    Example:
        >>> net = ConvAutoencoder((28, 28, 1), code_size=16, filters=(8, 16))
        >>> images = torch.rand(3, 28, 28, 1)
        >>> net.encode(images).shape
        torch.Size([3, 16])
        >>> net(images).shape
        torch.Size([3, 28, 28, 1])
    """

    def __init__(
        self, input_shape: Sequence[int], code_size: int = 32, *, filters: Sequence[int] = (32, 64)
    ) -> None:
        super().__init__()
        self.input_shape = layer_sizes("input_shape", input_shape, allow_empty=False)
        if len(self.input_shape) != 3:
            raise ConfigError(
                f"ConvAutoencoder expects input_shape=(height, width, channels), received "
                f"input_shape={tuple(input_shape)!r}. Fix: add the channel axis, e.g. (28, 28, 1)."
            )
        self.code_size = checks.positive_int("code_size", code_size)
        filters = layer_sizes("filters", filters, allow_empty=False)
        height, width, channels = self.input_shape
        # Sizes on the way down; the decoder's output_padding brings each one back exactly.
        sizes = [(height, width)]
        for _ in filters:
            sizes.append(tuple((s - 1) // 2 + 1 for s in sizes[-1]))
        encoder: list[nn.Module] = [_Permute(0, 3, 1, 2)]  # (N, H, W, C) -> (N, C, H, W)
        for c_in, c_out in zip((channels, *filters[:-1]), filters):
            encoder += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.ReLU()]
        bottom = (filters[-1], *sizes[-1])  # (C, h, w) of the smallest maps
        encoder += [nn.Flatten(), nn.Linear(math.prod(bottom), code_size)]
        decoder: list[nn.Module] = [
            nn.Linear(code_size, math.prod(bottom)),
            nn.ReLU(),
            nn.Unflatten(1, bottom),
        ]
        channels_up = (*reversed(filters), channels)
        for step, (c_in, c_out) in enumerate(zip(channels_up[:-1], channels_up[1:])):
            small, large = sizes[-1 - step], sizes[-2 - step]
            # A stride-2 transposed conv gives 2s - 1 (+ output_padding) from s.
            padding = tuple(big - (2 * s - 1) for s, big in zip(small, large))
            decoder.append(
                nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=padding)
            )
            if step < len(filters) - 1:  # the last one gives logits
                decoder.append(nn.ReLU())
        decoder.append(_Permute(0, 2, 3, 1))  # logits back to (N, H, W, C)
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
