"""Position embeddings (KerasHub's): learned, sinusoidal, and token + position in one layer.

``PositionEmbedding`` and ``SinusoidalPositionEmbedding`` take the embedded tokens
``(N, T, features)`` and *return* the position embeddings, broadcast to that shape, for the caller
to add. ``start_index`` shifts the positions: when decoding with a ``KeyValueCache``, the next
token sits at position ``cache.length``.

Example:
    >>> import torch
    >>> from ember.layers.position import TokenAndPositionEmbedding
    >>> embed = TokenAndPositionEmbedding(1000, sequence_length=64, embedding_dim=16, mask_zero=True)
    >>> ids = torch.tensor([[5, 9, 2, 0, 0]])
    >>> embed(ids).shape, embed.compute_mask(ids)
    (torch.Size([1, 5, 16]), tensor([[ True,  True,  True, False, False]]))
"""

from __future__ import annotations

from typing import Any

import torch

from ember import checks
from ember.errors import ShapeError
from ember.layers import initializers
from ember.layers.attention import _check_sequence
from ember.layers.base import Layer
from ember.layers.conv import _choice
from ember.layers.core import Embedding, _new_parameter
from ember.layers.registry import LAYERS


def _check_length(layer: Layer, steps: int, start_index: int) -> None:
    end = start_index + steps
    if end > layer.sequence_length:
        start, fix = "", f"truncate the sequences to {layer.sequence_length} steps"
        if start_index:  # decoding with a cache
            start, fix = f" starting at position {start_index}", "stop generating earlier"
        raise ShapeError(
            f"{type(layer).__name__}(sequence_length={layer.sequence_length}) received a sequence "
            f"of length {steps}{start}, which needs {end} positions. Fix: {fix}, or create the "
            f"layer with sequence_length={end} or more."
        )


@LAYERS.register()
class PositionEmbedding(Layer):
    """A learned embedding for each of ``sequence_length`` positions, returned to be added.

    ``weight`` has shape ``(sequence_length, features)``, made at the first call from the input's
    last axis. ``call(x, start_index=0)`` returns rows ``start_index .. start_index + T - 1``
    broadcast to ``x``'s shape ``(N, T, features)``.

    Example:
        >>> tokens = torch.randn(2, 5, 8)
        >>> (tokens + PositionEmbedding(sequence_length=10)(tokens)).shape
        torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        sequence_length: int,
        initializer: Any = "glorot_uniform",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.sequence_length = checks.positive_int("sequence_length", sequence_length)
        self.initializer = initializers.get(initializer)
        self.register_parameter("weight", None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _check_sequence(self, "inputs", input_shape)
        self.weight = _new_parameter((self.sequence_length, input_shape[-1]), self.initializer)

    def call(self, x: torch.Tensor, start_index: int = 0) -> torch.Tensor:
        _check_length(self, x.shape[1], start_index)
        return self.weight[start_index : start_index + x.shape[1]].expand_as(x)  # (N, T, D)


@LAYERS.register()
class SinusoidalPositionEmbedding(Layer):
    """The fixed sine/cosine position encoding of Vaswani et al. (2017), returned to be added.

    For position ``p`` and feature pair ``(2i, 2i + 1)`` of ``D`` features:
    ``sin(p / max_wavelength ** (2i / D))`` and ``cos(p / max_wavelength ** (2i / D))``
    (KerasHub's ``SinePositionEncoding``). No weights and no length limit.

    Example:
        >>> encoding = SinusoidalPositionEmbedding()(torch.zeros(1, 3, 4))
        >>> encoding[0, 0]  # position 0: sin 0 = 0, cos 0 = 1
        tensor([0., 1., 0., 1.])
    """

    def __init__(
        self,
        max_wavelength: float = 10000,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.max_wavelength = checks.positive_number("max_wavelength", max_wavelength)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _check_sequence(self, "inputs", input_shape)

    def call(self, x: torch.Tensor, start_index: int = 0) -> torch.Tensor:
        steps, features = x.shape[1], x.shape[2]
        positions = torch.arange(start_index, start_index + steps, device=x.device)  # (T,)
        feature = torch.arange(features, device=x.device)  # (D,)
        # 1 / max_wavelength ** (2i / D), shared by features 2i (sine) and 2i + 1 (cosine)
        frequencies = torch.pow(self.max_wavelength, -(feature - feature % 2) / features)
        angles = positions.unsqueeze(1) * frequencies  # (T, D), float32
        encoding = torch.where(feature % 2 == 0, angles.sin(), angles.cos())
        return encoding.to(x.dtype).expand_as(x)  # (N, T, D)


@LAYERS.register()
class TokenAndPositionEmbedding(Layer):
    """Token embeddings plus position embeddings: ids ``(N, T)`` -> vectors ``(N, T, D)``.

    ``token_embedding`` is an ``Embedding(vocabulary_size, embedding_dim)`` (``weight`` of shape
    ``(vocabulary_size, embedding_dim)``); ``position_embedding`` is a ``PositionEmbedding``
    (``positions="learned"``, ``weight`` of shape ``(sequence_length, embedding_dim)``) or a
    ``SinusoidalPositionEmbedding`` (``positions="sinusoidal"``). Sequences may be at most
    ``sequence_length`` long. With ``mask_zero=True``, id 0 is padding and the layer starts a
    mask (``ids != 0``) that ``Sequential`` hands to the transformer blocks and pooling after it.
    ``call(ids, start_index=0)`` offsets the positions, for decoding with a ``KeyValueCache``.

    Example:
        >>> embed = TokenAndPositionEmbedding(100, 8, 4, positions="sinusoidal")
        >>> embed(torch.tensor([[3, 1, 4]]), start_index=5).shape
        torch.Size([1, 3, 4])
    """

    input_dtype = torch.long  # token ids

    def __init__(
        self,
        vocabulary_size: int,
        sequence_length: int,
        embedding_dim: int,
        mask_zero: bool = False,
        positions: str = "learned",
        embeddings_initializer: Any = "uniform",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        checks.positive_int("vocabulary_size", vocabulary_size)
        checks.positive_int("embedding_dim", embedding_dim)
        self.sequence_length = checks.positive_int("sequence_length", sequence_length)
        self.positions = _choice("positions", positions, ("learned", "sinusoidal"))
        self.mask_zero = mask_zero
        self.token_embedding = Embedding(
            vocabulary_size, embedding_dim, embeddings_initializer, mask_zero=mask_zero
        )
        if self.positions == "learned":
            self.position_embedding = PositionEmbedding(sequence_length, embeddings_initializer)
        else:
            self.position_embedding = SinusoidalPositionEmbedding()

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) != 1:
            raise ShapeError(
                f"TokenAndPositionEmbedding expects token ids of shape (batch, steps), received "
                f"per-sample shape {tuple(input_shape)}. Fix: pass one sequence of ids per row."
            )

    def call(self, x: torch.Tensor, start_index: int = 0) -> torch.Tensor:
        _check_length(self, x.shape[-1], start_index)
        tokens = self.token_embedding(x)  # (N, T, D)
        return tokens + self.position_embedding(tokens, start_index=start_index)

    def makes_mask(self) -> bool:
        return self.mask_zero

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """``x != 0`` when ``mask_zero`` is set (id 0 is padding), else ``None``."""
        return x != 0 if self.mask_zero else None
