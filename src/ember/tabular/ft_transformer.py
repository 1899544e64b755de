"""FT-Transformer: Gorishniy et al. 2021, "Revisiting Deep Learning Models for Tabular Data".

Reference: github.com/yandex-research/rtdl-revisiting-models, bin/ft_transformer.py. As there:
every feature becomes a token (numeric ``x_j * W_j + b_j``; categorical: an embedding of the
code plus a per-feature bias), a [CLS] token is prepended, pre-norm transformer blocks follow
(the first block without its attention LayerNorm, the last computing only the [CLS] row) with a
ReGLU feed-forward of width ``4/3 * d_token``, and the head is LayerNorm -> ReLU -> Linear on
[CLS]. Attention is ``torch.nn.MultiheadAttention`` (its own Xavier initialisation, where the
reference uses Kaiming); residual dropout is 0, the paper's default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.tabular.inputs import check_sizes, split_features


class FeatureTokenizer(nn.Module):
    """Each column -> a ``d_token`` vector; returns ``(N, 1 + C + D, d_token)``, [CLS] first,
    then the categorical tokens, then the numeric ones.

    Example:
        >>> tokenizer = FeatureTokenizer([4, 3], n_numeric=2, d_token=8)
        >>> tokenizer(torch.tensor([[3, 0]]), torch.tensor([[0.5, -1.0]])).shape
        torch.Size([1, 5, 8])
    """

    def __init__(self, cardinalities: Sequence[int], n_numeric: int, d_token: int) -> None:
        super().__init__()
        # One table for all columns: column i's codes are shifted by the cardinalities before it.
        offsets = torch.tensor([0, *cardinalities[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("category_offsets", offsets[: len(cardinalities)], persistent=False)
        self.category_embeddings = nn.Embedding(max(sum(cardinalities), 1), d_token)
        self.category_bias = nn.Parameter(torch.empty(len(cardinalities), d_token))
        self.numeric_weight = nn.Parameter(torch.empty(n_numeric, d_token))
        self.numeric_bias = nn.Parameter(torch.empty(n_numeric, d_token))
        self.cls_token = nn.Parameter(torch.empty(d_token))
        for parameter in (
            self.category_embeddings.weight,
            self.category_bias,
            self.numeric_weight,
            self.numeric_bias,
        ):
            if parameter.numel():  # a table without categorical (numeric) columns has none
                nn.init.kaiming_uniform_(parameter, a=math.sqrt(5))  # the reference's init
        nn.init.uniform_(self.cls_token, -1 / math.sqrt(d_token), 1 / math.sqrt(d_token))

    def forward(self, codes: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        categorical = self.category_embeddings(codes + self.category_offsets) + self.category_bias
        numbers = numeric.unsqueeze(-1) * self.numeric_weight + self.numeric_bias  # (N, D, d)
        cls = self.cls_token.expand(
            numeric.shape[0], 1, -1
        )  # (N, 1, d); len() would fix N on export
        return torch.cat([cls, categorical, numbers], dim=1)  # (N, 1 + C + D, d)


class ReGLU(nn.Module):
    """``a * relu(b)`` for the two halves ``a, b`` of the last axis (Shazeer 2020)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=-1)
        return a * F.relu(b)


class TransformerBlock(nn.Module):
    """Pre-norm attention and ReGLU feed-forward, each added back to its input."""

    def __init__(
        self, d_token: int, heads: int, ffn_width: int, dropout: float, *, first: bool
    ) -> None:
        super().__init__()
        # The tokenizer's output is not normalised before the first attention (the paper's choice).
        self.attention_norm = nn.Identity() if first else nn.LayerNorm(d_token)
        self.attention = nn.MultiheadAttention(d_token, heads, dropout=dropout, batch_first=True)
        self.ffn_norm = nn.LayerNorm(d_token)
        self.ffn = nn.Sequential(
            nn.Linear(d_token, 2 * ffn_width),
            ReGLU(),
            nn.Dropout(dropout),
            nn.Linear(ffn_width, d_token),
        )

    def forward(self, x: torch.Tensor, *, only_cls: bool = False) -> torch.Tensor:
        normed = self.attention_norm(x)  # (N, T, d)
        # The last block's output is read at [CLS] only, so only [CLS] needs to attend.
        query = normed[:, :1] if only_cls else normed
        attended, _ = self.attention(query, normed, normed, need_weights=False)
        x = (x[:, :1] if only_cls else x) + attended
        return x + self.ffn(self.ffn_norm(x))


class FTTransformer(nn.Module):
    """Feature tokenizer + transformer blocks + a head on the [CLS] token.

    Args:
        cardinalities: codes per categorical column (``TablePreprocessor.cardinalities``).
        n_numeric: numeric columns, "was missing" indicators included.
        out_features: classes (logits), or 1 for regression.
        d_token: the width of every token.
        layers: transformer blocks.
        heads: attention heads; must divide ``d_token``.
        dropout: on the attention weights and in the feed-forward (the paper tunes them apart,
            with defaults 0.2 and 0.1).
        ffn_factor: the feed-forward width as a multiple of ``d_token`` (paper: 4/3).

    Example:
        >>> net = FTTransformer([5, 3], n_numeric=2, out_features=4, d_token=16, heads=4)
        >>> net(torch.tensor([[4.0, 0.0, 0.1, -1.2], [2.0, 1.0, 0.3, 0.0]])).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        cardinalities: Sequence[int],
        n_numeric: int,
        out_features: int,
        *,
        d_token: int = 64,
        layers: int = 3,
        heads: int = 8,
        dropout: float = 0.1,
        ffn_factor: float = 4 / 3,
    ) -> None:
        super().__init__()
        cardinalities, n_numeric, out_features = check_sizes(cardinalities, n_numeric, out_features)
        d_token = checks.positive_int("d_token", d_token)
        layers = checks.positive_int("layers", layers)
        heads = checks.positive_int("heads", heads)
        dropout = checks.rate("dropout", dropout)
        ffn_factor = checks.positive_number("ffn_factor", ffn_factor)
        if d_token % heads:
            raise ConfigError(
                f"heads must divide d_token, received d_token={d_token}, heads={heads}. "
                f"Fix: choose d_token as a multiple of heads (e.g. {heads * (d_token // heads + 1)})."
            )
        # The constructor's arguments, JSON-ready: TablePredictor saves them to rebuild the net.
        self.config: dict[str, Any] = {
            "cardinalities": cardinalities,
            "n_numeric": n_numeric,
            "out_features": out_features,
            "d_token": d_token,
            "layers": layers,
            "heads": heads,
            "dropout": dropout,
            "ffn_factor": ffn_factor,
        }
        self.cardinalities, self.n_numeric = cardinalities, n_numeric
        self.tokenizer = FeatureTokenizer(cardinalities, n_numeric, d_token)
        ffn_width = max(1, int(d_token * ffn_factor))
        self.blocks = nn.ModuleList(
            TransformerBlock(d_token, heads, ffn_width, dropout, first=i == 0)
            for i in range(layers)
        )
        self.head = nn.Sequential(
            nn.LayerNorm(d_token), nn.ReLU(), nn.Linear(d_token, out_features)
        )

    @classmethod
    def from_preprocessor(
        cls, preprocessor: Any, out_features: int | None = None, **options: Any
    ) -> FTTransformer:
        """The network sized for a fitted :class:`TablePreprocessor` (``out_features``: one per
        class, or 1 for regression, unless given); ``options`` go to the constructor."""
        return cls(
            preprocessor.cardinalities,
            preprocessor.n_numeric,
            preprocessor.out_features if out_features is None else out_features,
            **options,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes, numeric = split_features(x, self.cardinalities, self.n_numeric)
        tokens = self.tokenizer(codes, numeric)  # (N, 1 + C + D, d_token)
        for i, block in enumerate(self.blocks):
            tokens = block(tokens, only_cls=i == len(self.blocks) - 1)
        return self.head(tokens[:, 0])  # (N, out_features)
