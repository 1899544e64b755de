"""BERT's encoder (Devlin et al. 2019) built from ember's layers, for pretrained text encoders.

Token, position and token-type embeddings are summed, layer-normalized and passed through
``num_layers`` post-LN :class:`~ember.layers.TransformerEncoder` blocks with GELU feed-forward
networks: the architecture of BERT, MiniLM and the sentence-transformers encoders. The output is
one vector per token, ``(N, T, hidden_dim)``; :func:`mean_pool` turns it into one vector per text
(what sentence-transformers' ``all-MiniLM-L6-v2`` does). Loading real weights is
:mod:`ember.zoo.pretrained`.

Example:
    >>> import torch
    >>> config = BertConfig(vocabulary_size=100, hidden_dim=32, num_layers=2, num_heads=4,
    ...                     intermediate_dim=64, max_positions=16)
    >>> encoder = BertEncoder(config).eval()
    >>> ids = torch.tensor([[5, 17, 42, 9], [5, 23, 0, 0]])  # id 0 is padding
    >>> hidden = encoder(ids)
    >>> hidden.shape, mean_pool(hidden, ids != 0).shape
    (torch.Size([2, 4, 32]), torch.Size([2, 32]))
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.files import read_json
from ember.layers.core import Dropout, Embedding
from ember.layers.normalization import LayerNormalization
from ember.layers.transformer import TransformerEncoder

# Hugging Face config.json names -> BertConfig fields.
_HF_NAMES = {
    "vocab_size": "vocabulary_size",
    "hidden_size": "hidden_dim",
    "num_hidden_layers": "num_layers",
    "num_attention_heads": "num_heads",
    "intermediate_size": "intermediate_dim",
    "max_position_embeddings": "max_positions",
    "type_vocab_size": "type_vocabulary_size",
    "layer_norm_eps": "layer_norm_epsilon",
    "hidden_dropout_prob": "dropout",
}


@dataclass(frozen=True)
class BertConfig:
    """The sizes of a BERT encoder. Defaults are MiniLM-L6-H384 (``all-MiniLM-L6-v2``).

    Example:
        >>> BertConfig(num_layers=2).hidden_dim
        384
    """

    vocabulary_size: int = 30522  # WordPiece ids; id 0 is [PAD]
    hidden_dim: int = 384  # width of every token vector
    num_layers: int = 6  # TransformerEncoder blocks
    num_heads: int = 12  # attention heads; hidden_dim must be a multiple
    intermediate_dim: int = 1536  # feed-forward width inside each block
    max_positions: int = 512  # longest sequence the position table covers
    type_vocabulary_size: int = 2  # segment ids (sentence A / B)
    layer_norm_epsilon: float = 1e-12  # BERT's epsilon, not Keras' 1e-3
    # hidden_dropout_prob, used on embeddings, attention weights and residual branches alike
    # (ember's block has one rate; BERT's attention_probs_dropout_prob is also 0.1). Off in eval.
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for field in fields(self):
            if field.type == "int":
                checks.positive_int(field.name, getattr(self, field.name))
        if self.hidden_dim % self.num_heads:
            raise ConfigError(
                f"hidden_dim={self.hidden_dim} must be a multiple of num_heads={self.num_heads}. "
                f"Fix: e.g. num_heads={_largest_divisor(self.hidden_dim, self.num_heads)}."
            )

    @classmethod
    def from_hf(cls, config: dict[str, Any] | str | Path) -> BertConfig:
        """A config from a Hugging Face BERT ``config.json`` (its path, or the parsed dict).

        Only absolute positions and exact GELU are supported; anything else is a ConfigError.

        Example:
            >>> BertConfig.from_hf({"hidden_size": 64, "num_attention_heads": 4}).hidden_dim
            64
        """
        if not isinstance(config, dict):
            config = read_json(Path(config))
        activation = config.get("hidden_act", "gelu")
        positions = config.get("position_embedding_type", "absolute")
        if activation != "gelu" or positions != "absolute":
            raise ConfigError(
                f"BertEncoder supports hidden_act='gelu' with absolute positions, received "
                f"hidden_act={activation!r}, position_embedding_type={positions!r}. Fix: use a "
                f"BERT checkpoint of the original architecture (BERT, MiniLM, all-MiniLM-L6-v2)."
            )
        return cls(
            **{ours: config[theirs] for theirs, ours in _HF_NAMES.items() if theirs in config}
        )


def _largest_divisor(number: int, at_most: int) -> int:
    return max(d for d in range(1, at_most + 1) if number % d == 0)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of ``hidden`` (N, T, D) over the real tokens (``mask`` (N, T) True) -> (N, D).

    Padded positions get weight 0, so they never change the result; a row with no real token
    gives zeros (the count is clamped as sentence-transformers does).

    Example:
        >>> hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
        >>> mean_pool(hidden, torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """
    weights = mask.to(hidden.dtype).unsqueeze(-1)  # (N, T, 1)
    total = (hidden * weights).sum(dim=1)  # (N, D)
    return total / weights.sum(dim=1).clamp(min=1e-9)


class BertEncoder(nn.Module):
    """BERT's encoder: ids ``(N, T)`` -> token vectors ``(N, T, hidden_dim)``.

    ``forward(ids, mask=None, token_type_ids=None)``: ``mask`` (N, T) is True at real tokens;
    when omitted it is ``ids != 0`` (ember's tokenizers and BERT's vocabulary pad with id 0).
    Padded tokens are never attended to, so they do not change the real tokens' vectors.
    ``token_type_ids`` (N, T) default to zeros (one segment).

    State-dict names (see :mod:`ember.zoo.pretrained` for the mapping from BERT's)::

        word_embeddings.weight            (vocabulary_size, hidden_dim)
        position_embeddings.weight        (max_positions, hidden_dim)
        token_type_embeddings.weight      (type_vocabulary_size, hidden_dim)
        embeddings_layer_norm.{weight,bias}
        layers.{i}.<TransformerEncoder submodules>

    Example:
        >>> encoder = BertEncoder(BertConfig(vocabulary_size=50, hidden_dim=16, num_layers=1,
        ...                                  num_heads=2, intermediate_dim=32, max_positions=8))
        >>> encoder(torch.randint(1, 50, (3, 8))).shape
        torch.Size([3, 8, 16])
    """

    def __init__(self, config: BertConfig | None = None) -> None:
        super().__init__()
        config = BertConfig() if config is None else config
        if not isinstance(config, BertConfig):
            raise ConfigError(
                f"expected a BertConfig, received {type(config).__name__}. Fix: BertEncoder("
                f"BertConfig(...)), or BertConfig.from_hf(config_json) for a Hugging Face config."
            )
        self.config = config
        hidden = config.hidden_dim
        self.word_embeddings = Embedding(config.vocabulary_size, hidden)
        self.position_embeddings = Embedding(config.max_positions, hidden)
        self.token_type_embeddings = Embedding(config.type_vocabulary_size, hidden)
        self.embeddings_layer_norm = LayerNormalization(epsilon=config.layer_norm_epsilon)
        self.embeddings_dropout = Dropout(config.dropout)
        self.layers = nn.ModuleList(
            TransformerEncoder(
                config.intermediate_dim,
                config.num_heads,
                dropout=config.dropout,
                activation="gelu",  # nn.GELU: the exact (erf) GELU, as BERT's "gelu"
                layer_norm_epsilon=config.layer_norm_epsilon,
                norm_first=False,  # post-LN, as BERT
            )
            for _ in range(config.num_layers)
        )
        with torch.no_grad():  # ember's layers are lazy: one token creates every weight now
            self(torch.ones(1, 1, dtype=torch.long))

    mean_pool = staticmethod(mean_pool)  # encoder.mean_pool(hidden, mask): sentence vectors

    def forward(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        self.check_inputs(ids, mask, token_type_ids)
        mask = ids != 0 if mask is None else mask.bool()
        x = self.embed(ids, token_type_ids)
        for layer in self.layers:
            x = layer(x, mask=mask)  # padded keys masked out
        return x  # (N, T, D)

    def embed(self, ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """The input vectors ``(N, T, D)`` the first layer reads: word + segment + position."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(ids)
        positions = torch.arange(ids.shape[1], device=ids.device)  # (T,)
        x = self.word_embeddings(ids) + self.token_type_embeddings(token_type_ids)  # (N, T, D)
        x = x + self.position_embeddings(positions.unsqueeze(0))  # (1, T, D) broadcast
        return self.embeddings_dropout(self.embeddings_layer_norm(x))

    def check_inputs(
        self, ids: torch.Tensor, mask: torch.Tensor | None, token_type_ids: torch.Tensor | None
    ) -> None:
        """Raise a :class:`ShapeError` unless ``ids`` is ``(N, T)`` with ``T <= max_positions``
        and ``mask`` and ``token_type_ids`` (when given) have its shape.

        Example:
            >>> encoder = BertEncoder(BertConfig(vocabulary_size=10, hidden_dim=8, num_layers=1,
            ...                                  num_heads=2, intermediate_dim=16, max_positions=4))
            >>> encoder.check_inputs(torch.ones(2, 5, dtype=torch.long), None, None)
            Traceback (most recent call last):
            ...
            ember.errors.ShapeError: BertEncoder reads at most max_positions=4 tokens, received 5. ...
        """
        if ids.dim() != 2:
            raise ShapeError(
                f"BertEncoder expects ids of shape (batch, steps), received {tuple(ids.shape)}. "
                f"Fix: batch the ids, e.g. ids.unsqueeze(0) for one text."
            )
        if ids.shape[1] > self.config.max_positions:
            raise ShapeError(
                f"BertEncoder reads at most max_positions={self.config.max_positions} tokens, "
                f"received {ids.shape[1]}. Fix: truncate the ids to {self.config.max_positions}."
            )
        for name, other in (("mask", mask), ("token_type_ids", token_type_ids)):
            if other is not None and other.shape != ids.shape:
                raise ShapeError(
                    f"{name} must have the shape of ids {tuple(ids.shape)}, received "
                    f"{tuple(other.shape)}. Fix: pass one entry per token."
                )
