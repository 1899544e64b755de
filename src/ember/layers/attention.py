"""Multi-head attention (Keras' ``MultiHeadAttention``) with a key/value cache for decoding.

Without ``return_attention_scores`` the attention runs in ``F.scaled_dot_product_attention``
(fused kernels where the device has them); with it, an explicit softmax computes the same numbers
and also returns the weights. Both paths share one mask, so they agree.

Example:
    >>> import torch
    >>> from ember.layers.attention import MultiHeadAttention
    >>> attention = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> query, value = torch.randn(3, 5, 8), torch.randn(3, 7, 6)
    >>> output, scores = attention(query, value, return_attention_scores=True)
    >>> tuple(output.shape), tuple(scores.shape)
    ((3, 5, 8), (3, 2, 5, 7))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ShapeError
from ember.layers.base import Layer
from ember.layers.core import Dense
from ember.layers.registry import LAYERS


def _check_sequence(layer: Layer, name: str, per_sample_shape: tuple[int, ...]) -> None:
    if len(per_sample_shape) != 2:
        raise ShapeError(
            f"{type(layer).__name__} expects {name} of shape (batch, steps, features), received "
            f"per-sample shape {tuple(per_sample_shape)}. Fix: reshape the data to (batch, steps, "
            f"features), e.g. x.unsqueeze(-1) for one feature per step."
        )


def _check_mask(name: str, mask: torch.Tensor | None, expected: tuple[int, ...]) -> None:
    if mask is not None and tuple(mask.shape) != expected:
        raise ShapeError(
            f"{name} must have shape {expected}, received {tuple(mask.shape)}. Fix: pass a "
            f"boolean mask that is True at the steps to attend to, one entry per step."
        )


@dataclass(frozen=True, eq=False)  # tensors: compare caches by identity
class KeyValueCache:
    """The projected keys and values of the steps decoded so far, for one attention layer.

    Start with ``KeyValueCache()`` (empty); each call with ``cache=...`` returns the cache grown by
    that call's steps. ``length`` is the number of cached steps: the position of the next token,
    to pass as ``start_index`` to a position embedding. A padding mask given with the first steps
    (e.g. a left-padded prompt) is remembered, so later steps never attend to the padding.

    Example:
        >>> attention = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> cache = KeyValueCache()
        >>> for token in torch.randn(1, 3, 8).split(1, dim=1):  # one step at a time
        ...     output, cache = attention(token, token, use_causal_mask=True, cache=cache)
        >>> cache.length, tuple(cache.key.shape)
        (3, (1, 2, 3, 4))
    """

    key: torch.Tensor | None = None  # (N, heads, steps, key_dim)
    value: torch.Tensor | None = None  # (N, heads, steps, value_dim)
    mask: torch.Tensor | None = None  # (N, steps), True at real steps; None: every step is real

    @property
    def length(self) -> int:
        return 0 if self.key is None else self.key.shape[2]

    def append(
        self, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None
    ) -> KeyValueCache:
        """This cache followed by ``key``/``value`` (N, heads, new, dim) with ``mask`` (N, new)."""
        if self.key is None:
            return KeyValueCache(key, value, mask)
        if mask is not None or self.mask is not None:
            old = self.mask if self.mask is not None else _all_real(self.key)
            mask = torch.cat([old, mask if mask is not None else _all_real(key)], dim=1)
        key, value = torch.cat([self.key, key], dim=2), torch.cat([self.value, value], dim=2)
        return KeyValueCache(key, value, mask)


def _all_real(keys: torch.Tensor) -> torch.Tensor:
    return torch.ones(keys.shape[0], keys.shape[2], dtype=torch.bool, device=keys.device)


@LAYERS.register()
class MultiHeadAttention(Layer):
    """Keras' multi-head attention: ``softmax(Q K^T / sqrt(key_dim)) V`` per head, then a projection.

    ``call(query, value, key=None, ...)`` returns the output ``(N, Tq, query_features)`` (or
    ``output_shape`` features) and, with ``return_attention_scores=True``, the attention weights
    ``(N, num_heads, Tq, Tk)``. Masks are boolean and True where attention is allowed:
    ``query_mask`` (N, Tq), ``value_mask``/``key_mask`` (N, Tk) (padding masks, as made by
    ``Embedding(mask_zero=True)``), ``attention_mask`` (N, Tq, Tk); ``use_causal_mask`` lets step
    ``t`` see keys up to ``t`` only. They combine. A query whose keys are all masked attends to
    nothing: its attention output is zero (the layer returns the output bias there), never NaN.

    With ``cache=KeyValueCache(...)`` (self-attention only) the keys and values of this call's
    steps are appended to the cached ones, queries attend to all of them (the causal mask is
    offset by ``cache.length``) and the call returns ``(output, cache)``, or
    ``(output, scores, cache)`` with scores.

    Submodules (torch ``nn.Linear`` layout, weights ``(out, in)`` and biases):
    ``query_dense``, ``key_dense`` (``num_heads * key_dim`` units), ``value_dense``
    (``num_heads * value_dim``) and ``output_dense``.

    Example:
        >>> attention = MultiHeadAttention(num_heads=4, key_dim=8, dropout=0.1)
        >>> x = torch.randn(2, 10, 32)
        >>> attention(x, x, use_causal_mask=True).shape
        torch.Size([2, 10, 32])
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.key_dim = checks.positive_int("key_dim", key_dim)
        self.value_dim = (
            key_dim if value_dim is None else checks.positive_int("value_dim", value_dim)
        )
        self.dropout = checks.rate("dropout", dropout)
        self.use_bias = use_bias
        if output_shape is not None:
            checks.positive_int("output_shape", output_shape)
        self.output_shape = output_shape
        self.query_dense = Dense(num_heads * key_dim, use_bias=use_bias)
        self.key_dense = Dense(num_heads * key_dim, use_bias=use_bias)
        self.value_dense = Dense(num_heads * self.value_dim, use_bias=use_bias)
        self.register_module("output_dense", None)  # its width is the query's: known in build

    def build(self, query_shape: tuple[int, ...]) -> None:
        _check_sequence(self, "query", query_shape)
        self.output_dense = Dense(self.output_shape or query_shape[-1], use_bias=self.use_bias)

    def call(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        query_mask: torch.Tensor | None = None,
        value_mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
        cache: KeyValueCache | None = None,
    ) -> Any:
        key = value if key is None else key
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            _check_sequence(self, name, tuple(tensor.shape[1:]))
        batch, query_steps, new_steps = query.shape[0], query.shape[1], key.shape[1]
        key_mask = value_mask if key_mask is None else key_mask
        _check_mask("query_mask", query_mask, (batch, query_steps))
        _check_mask("key_mask/value_mask", key_mask, (batch, new_steps))
        q = self._split_heads(self.query_dense(query), self.key_dim)  # (N, heads, Tq, key_dim)
        k = self._split_heads(self.key_dense(key), self.key_dim)  # (N, heads, Tk, key_dim)
        v = self._split_heads(self.value_dense(value), self.value_dim)  # (N, heads, Tk, value_dim)
        past = 0
        if cache is not None:  # attend to the cached steps and this call's
            past = cache.length
            cache = cache.append(k, v, None if key_mask is None else key_mask.bool())
            k, v, key_mask = cache.key, cache.value, cache.mask
        _check_mask("attention_mask", attention_mask, (batch, query_steps, k.shape[2]))
        causal_offset = past if use_causal_mask else None  # query i sits at position past + i
        allowed, has_key = _attention_mask(
            query_mask, key_mask, attention_mask, causal_offset, (query_steps, k.shape[2]), q.device
        )
        dropout = self.dropout if self.training else 0.0
        if return_attention_scores:  # explicit path: the weights are wanted
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.key_dim)  # (N, heads, Tq, Tk)
            if allowed is not None:
                scores = scores.masked_fill(~allowed, float("-inf"))
            weights = scores.softmax(dim=-1)
            if has_key is not None:
                weights = weights.masked_fill(~has_key, 0.0)  # rows with no key attend nothing
            attended = F.dropout(weights, dropout, training=dropout > 0) @ v
        else:  # fused path; a plain causal mask goes in as is_causal (flash-attention eligible)
            is_causal = causal_offset == 0 and has_key is None and query_steps == k.shape[2]
            attended = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None if is_causal else allowed, dropout_p=dropout,
                is_causal=is_causal,
            )  # fmt: skip
            if has_key is not None:
                attended = attended.masked_fill(~has_key, 0.0)
        # (N, heads, Tq, value_dim) -> (N, Tq, heads * value_dim) -> (N, Tq, output features)
        output = self.output_dense(attended.transpose(1, 2).flatten(2))
        results = (output,)
        if return_attention_scores:
            results += (weights,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _split_heads(self, x: torch.Tensor, head_dim: int) -> torch.Tensor:
        # (N, T, heads * head_dim) -> (N, heads, T, head_dim)
        return x.unflatten(-1, (self.num_heads, head_dim)).transpose(1, 2)


def _attention_mask(
    query_mask: torch.Tensor | None,
    key_mask: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    causal_offset: int | None,
    steps: tuple[int, int],
    device: torch.device,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Which keys each query may attend to, as a boolean mask broadcastable to (N, heads, Tq, Tk),
    and which queries have at least one such key (``None`` when all have). ``steps`` is (Tq, Tk);
    with a ``causal_offset``, query i (at position offset + i) sees keys up to that position.

    Rows with no key are opened up in the returned mask, so no kernel sees a fully masked row (some
    return NaN there, or NaN gradients); the caller zeroes their output with the second tensor.
    """
    query_steps, key_steps = steps
    causal_mask = None
    if causal_offset is not None:
        rows = torch.arange(query_steps, device=device).unsqueeze(1) + causal_offset  # (Tq, 1)
        causal_mask = torch.arange(key_steps, device=device) <= rows  # (Tq, Tk)
    allowed = None
    if attention_mask is not None:
        allowed = attention_mask.bool().unsqueeze(1)  # (N, 1, Tq, Tk)
    if key_mask is not None:
        allowed = _both(allowed, key_mask.bool()[:, None, None, :])  # (N, 1, 1, Tk)
    if query_mask is not None:
        allowed = _both(allowed, query_mask.bool()[:, None, :, None])  # (N, 1, Tq, 1)
    if allowed is None:  # at most causal: every query sees the first key
        return causal_mask, None
    allowed = _both(allowed, causal_mask).expand(-1, -1, query_steps, key_steps)
    has_key = allowed.any(dim=-1, keepdim=True)  # (N, 1, Tq, 1)
    return allowed | ~has_key, has_key


def _both(mask: torch.Tensor | None, other: torch.Tensor | None) -> torch.Tensor | None:
    if mask is None or other is None:
        return other if mask is None else mask
    return mask & other
