"""Transformer blocks with KerasHub's names and semantics: TransformerEncoder, TransformerDecoder.

Each block is attention then a feed-forward network (``Dense(intermediate_dim, activation)`` then
``Dense(hidden_dim)``), each wrapped in a residual connection and a layer norm: after the sum
(``norm_first=False``, post-LN: the original Transformer and BERT) or on the branch's input
(``norm_first=True``, pre-LN: GPT-2; KerasHub calls it ``normalize_first``). The hidden size is
the input's last axis; each head has ``hidden_dim // num_heads`` dimensions.

Submodules (state-dict names; every projection is ``nn.Linear``-shaped, weight ``(out, in)`` plus
bias, so a checkpoint maps onto them one to one, e.g. BERT's ``attention.self.query`` ->
``self_attention.query_dense``, ``attention.output.dense`` -> ``self_attention.output_dense``,
``attention.output.LayerNorm`` -> ``self_attention_layer_norm``, ``intermediate.dense`` ->
``feedforward_intermediate_dense``, ``output.dense`` -> ``feedforward_output_dense``,
``output.LayerNorm`` -> ``feedforward_layer_norm``)::

    self_attention.{query,key,value,output}_dense.{weight,bias}   MultiHeadAttention
    self_attention_layer_norm.{weight,bias}
    cross_attention.{query,key,value,output}_dense.{weight,bias}  decoder with an encoder only
    cross_attention_layer_norm.{weight,bias}                      decoder with an encoder only
    feedforward_intermediate_dense.{weight,bias}                  (intermediate_dim, hidden_dim)
    feedforward_output_dense.{weight,bias}                        (hidden_dim, intermediate_dim)
    feedforward_layer_norm.{weight,bias}

Example:
    >>> import torch
    >>> from ember.layers.transformer import TransformerEncoder
    >>> TransformerEncoder(intermediate_dim=64, num_heads=4)(torch.randn(2, 10, 32)).shape
    torch.Size([2, 10, 32])
"""

from __future__ import annotations

from typing import Any

import torch

from ember import activations, checks
from ember.errors import ConfigError, ShapeError
from ember.layers.attention import KeyValueCache, MultiHeadAttention, _check_sequence
from ember.layers.base import Layer
from ember.layers.core import Dense, Dropout
from ember.layers.normalization import LayerNormalization
from ember.layers.registry import LAYERS


class _TransformerBlock(Layer):
    """What the encoder and decoder share: arguments, self-attention, feed-forward, residuals."""

    uses_mask = True  # a padding mask (N, T) from Embedding(mask_zero=True) masks the keys
    keeps_mask = True  # one output step per input step

    def __init__(
        self,
        intermediate_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        activation: Any = "relu",
        layer_norm_epsilon: float = 1e-5,
        norm_first: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.intermediate_dim = checks.positive_int("intermediate_dim", intermediate_dim)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.dropout = checks.rate("dropout", dropout)
        activations.get(activation)  # an unknown name fails here, not at the first batch
        # Not ``self.activation``: that is Layer's activation on the block's output.
        self.feedforward_activation = activation
        self.layer_norm_epsilon = checks.positive_number("layer_norm_epsilon", layer_norm_epsilon)
        self.norm_first = bool(norm_first)

    def build(self, input_shape: tuple[int, ...]) -> None:
        _check_sequence(self, "inputs", input_shape)
        hidden_dim = input_shape[-1]
        self.head_dim = hidden_dim // self.num_heads
        if self.head_dim == 0:
            raise ShapeError(
                f"{type(self).__name__}(num_heads={self.num_heads}) needs at least one feature "
                f"per head, received {hidden_dim} features (per-sample shape {input_shape}). Fix: "
                f"use num_heads <= {hidden_dim}, or embed the inputs in more dimensions."
            )
        self.self_attention = self._attention()
        self.self_attention_layer_norm = self._layer_norm()
        self.self_attention_dropout = Dropout(self.dropout)
        self.feedforward_intermediate_dense = Dense(
            self.intermediate_dim, activation=self.feedforward_activation
        )
        self.feedforward_output_dense = Dense(hidden_dim)
        self.feedforward_layer_norm = self._layer_norm()
        self.feedforward_dropout = Dropout(self.dropout)

    def _attention(self) -> MultiHeadAttention:
        return MultiHeadAttention(self.num_heads, self.head_dim, dropout=self.dropout)

    def _layer_norm(self) -> LayerNormalization:
        return LayerNormalization(epsilon=self.layer_norm_epsilon)

    def _branch_input(self, x: torch.Tensor, norm: LayerNormalization) -> torch.Tensor:
        return norm(x) if self.norm_first else x  # pre-LN normalizes what enters the branch

    def _residual(
        self, x: torch.Tensor, branch: torch.Tensor, norm: LayerNormalization, dropout: Dropout
    ) -> torch.Tensor:
        x = x + dropout(branch)
        return x if self.norm_first else norm(x)  # post-LN normalizes the sum

    def _feedforward_block(self, x: torch.Tensor) -> torch.Tensor:
        h = self._branch_input(x, self.feedforward_layer_norm)
        h = self.feedforward_output_dense(self.feedforward_intermediate_dense(h))  # (N, T, D)
        return self._residual(x, h, self.feedforward_layer_norm, self.feedforward_dropout)


@LAYERS.register()
class TransformerEncoder(_TransformerBlock):
    """A Transformer encoder block: self-attention over all steps, then a feed-forward network.

    ``call(x, mask=None, attention_mask=None)``: ``x`` is ``(N, T, hidden_dim)``; ``mask``
    ``(N, T)`` is True at real steps (KerasHub's ``padding_mask``, passed on by ``Sequential``
    after ``TokenAndPositionEmbedding(mask_zero=True)``) so padded steps never change the real
    ones; ``attention_mask`` ``(N, T, T)`` is True where step i may attend to step j.
    ``TransformerEncoder(3072, 12, activation="gelu", layer_norm_epsilon=1e-12)`` is a BERT-base
    layer (see the module docstring for the submodule names).

    Example:
        >>> encoder = TransformerEncoder(64, num_heads=4, dropout=0.1, norm_first=True)
        >>> x, mask = torch.randn(2, 6, 32), torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
        >>> encoder(x, mask=mask).shape
        torch.Size([2, 6, 32])
    """

    def call(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self._branch_input(x, self.self_attention_layer_norm)  # (N, T, D)
        h = self.self_attention(h, h, value_mask=mask, attention_mask=attention_mask)
        x = self._residual(x, h, self.self_attention_layer_norm, self.self_attention_dropout)
        return self._feedforward_block(x)


@LAYERS.register()
class TransformerDecoder(_TransformerBlock):
    """A Transformer decoder block: causal self-attention, cross-attention to an encoder's output
    when one is given, then a feed-forward network.

    ``call(x, encoder_sequence=None, mask=None, encoder_mask=None, cache=None)``: ``x`` is
    ``(N, T, hidden_dim)``; ``mask`` ``(N, T)`` and ``encoder_mask`` ``(N, S)`` are True at real
    steps. Called without ``encoder_sequence`` it is a decoder-only (GPT-style) block; the first
    call decides which kind it is, and cross-attention weights exist only in the second kind.

    For generation, pass ``cache=KeyValueCache()`` with the prompt and then the returned cache
    with each new token: the call returns ``(output, cache)`` and equals the full causal forward.

    Example:
        >>> decoder = TransformerDecoder(64, num_heads=4)
        >>> tokens = torch.randn(1, 5, 32)
        >>> full = decoder(tokens)  # (1, 5, 32), step t sees steps <= t
        >>> prompt, cache = decoder(tokens[:, :4], cache=KeyValueCache())
        >>> last, cache = decoder(tokens[:, 4:], cache=cache)
        >>> torch.allclose(last, full[:, 4:], atol=1e-5), cache.length
        (True, 5)
    """

    def build(self, input_shape: tuple[int, ...]) -> None:
        super().build(input_shape)
        self.decoder_only: bool | None = None  # set by the first call
        for name in ("cross_attention", "cross_attention_layer_norm", "cross_attention_dropout"):
            self.register_module(name, None)

    def call(
        self,
        x: torch.Tensor,
        encoder_sequence: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        encoder_mask: torch.Tensor | None = None,
        cache: KeyValueCache | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, KeyValueCache]:
        self._check_encoder_use(encoder_sequence)
        h = self._branch_input(x, self.self_attention_layer_norm)  # (N, T, D)
        h = self.self_attention(h, h, value_mask=mask, use_causal_mask=True, cache=cache)
        if cache is not None:
            h, cache = h
        x = self._residual(x, h, self.self_attention_layer_norm, self.self_attention_dropout)
        if encoder_sequence is not None:  # queries from the decoder, keys/values from the encoder
            h = self._branch_input(x, self.cross_attention_layer_norm)
            h = self.cross_attention(h, encoder_sequence, value_mask=encoder_mask)
            x = self._residual(x, h, self.cross_attention_layer_norm, self.cross_attention_dropout)
        x = self._feedforward_block(x)
        return x if cache is None else (x, cache)

    def _check_encoder_use(self, encoder_sequence: torch.Tensor | None) -> None:
        decoder_only = encoder_sequence is None
        if self.decoder_only is None:
            self.decoder_only = decoder_only
            if not decoder_only:  # lazy sublayers: their weights appear in this first call
                self.cross_attention = self._attention()
                self.cross_attention_layer_norm = self._layer_norm()
                self.cross_attention_dropout = Dropout(self.dropout)
        elif decoder_only != self.decoder_only:
            first, now = ("without", "with") if self.decoder_only else ("with", "without")
            raise ConfigError(
                f"TransformerDecoder was first called {first} encoder_sequence and is built that "
                f"way, received a call {now} one. Fix: call it the same way every time, or use a "
                f"new TransformerDecoder for the other kind of model."
            )
