"""An MLP over embedded categorical columns and numeric columns: fastai's ``TabularModel``.

Reference: fastai/tabular/model.py (``TabularModel``, ``LinBnDrop`` with ``lin_first=True``).
Each categorical column has its own embedding (fastai's truncated-normal init, std 0.01) followed
by one embedding dropout; the numeric columns go through ``BatchNorm1d``; both are concatenated
and pass through blocks of Linear (no bias) -> ReLU -> BatchNorm1d -> Dropout, then a final
Linear that outputs logits (classification) or values (regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.tabular.encoding import embedding_size
from ember.tabular.inputs import check_sizes, split_features


class TabularMLP(nn.Module):
    """Embeddings for the categorical codes, concatenated with the numeric columns, then an MLP.

    Args:
        cardinalities: codes per categorical column (``TablePreprocessor.cardinalities``).
        n_numeric: numeric columns, "was missing" indicators included.
        out_features: classes (logits), or 1 for regression.
        hidden: widths of the hidden blocks.
        dropout: dropout after each hidden block.
        embedding_sizes: one width per categorical column; None uses fastai's rule
            (:func:`ember.tabular.embedding_size`).
        embedding_dropout: dropout on the concatenated embeddings.

    Example:
        >>> import torch
        >>> net = TabularMLP([5, 3], n_numeric=2, out_features=4)
        >>> x = torch.tensor([[4.0, 0.0, 0.1, -1.2], [2.0, 1.0, 0.3, 0.0]])  # 2 codes, 2 numbers
        >>> net(x).shape
        torch.Size([2, 4])
    """

    def __init__(
        self,
        cardinalities: Sequence[int],
        n_numeric: int,
        out_features: int,
        *,
        hidden: Sequence[int] = (200, 100),
        dropout: float = 0.1,
        embedding_sizes: Sequence[int] | None = None,
        embedding_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        cardinalities, n_numeric, out_features = check_sizes(cardinalities, n_numeric, out_features)
        hidden = checks.positive_ints("hidden", hidden)
        dropout = checks.rate("dropout", dropout)
        embedding_dropout = checks.rate("embedding_dropout", embedding_dropout)
        if embedding_sizes is None:
            embedding_sizes = [embedding_size(n) for n in cardinalities]
        embedding_sizes = list(checks.positive_ints("embedding_sizes", embedding_sizes))
        if len(embedding_sizes) != len(cardinalities):
            raise ConfigError(
                f"expected one embedding size per categorical column ({len(cardinalities)}), "
                f"received embedding_sizes={embedding_sizes}. Fix: pass {len(cardinalities)} "
                f"sizes, or None for fastai's rule."
            )
        # The constructor's arguments, JSON-ready: TablePredictor saves them to rebuild the net.
        self.config: dict[str, Any] = {
            "cardinalities": cardinalities,
            "n_numeric": n_numeric,
            "out_features": out_features,
            "hidden": list(hidden),
            "dropout": dropout,
            "embedding_sizes": embedding_sizes,
            "embedding_dropout": embedding_dropout,
        }
        self.cardinalities, self.n_numeric = cardinalities, n_numeric
        self.embeddings = nn.ModuleList(
            nn.Embedding(n, size) for n, size in zip(cardinalities, embedding_sizes, strict=True)
        )
        for embedding in self.embeddings:
            nn.init.trunc_normal_(embedding.weight, std=0.01)  # fastai's Embedding
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.numeric_norm = nn.BatchNorm1d(n_numeric) if n_numeric else None
        blocks, width = [], sum(embedding_sizes) + n_numeric
        for size in hidden:
            blocks += [
                nn.Linear(width, size, bias=False),  # BatchNorm follows and has its own shift
                nn.ReLU(),
                nn.BatchNorm1d(size),
                nn.Dropout(dropout),
            ]
            width = size
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, out_features)

    @classmethod
    def from_preprocessor(
        cls, preprocessor: Any, out_features: int | None = None, **options: Any
    ) -> TabularMLP:
        """The network sized for a fitted :class:`TablePreprocessor` (``out_features``: one per
        class, or 1 for regression, unless given); ``options`` go to the constructor.

        Example:
            >>> import pandas as pd
            >>> from ember.tabular import TablePreprocessor
            >>> frame = pd.DataFrame({"c": ["a", "b", "a"], "x": [0.1, 0.2, 0.3], "y": [0, 1, 1]})
            >>> net = TabularMLP.from_preprocessor(TablePreprocessor("y").fit(frame), hidden=[8])
            >>> net.config["cardinalities"], net.config["n_numeric"], net.config["out_features"]
            ([4], 1, 2)
        """
        return cls(
            preprocessor.cardinalities,
            preprocessor.n_numeric,
            preprocessor.out_features if out_features is None else out_features,
            **options,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        codes, numeric = split_features(x, self.cardinalities, self.n_numeric)  # (N, C), (N, D)
        parts = []
        if self.embeddings:
            embedded = [embedding(codes[:, i]) for i, embedding in enumerate(self.embeddings)]
            parts.append(self.embedding_dropout(torch.cat(embedded, dim=1)))  # (N, sum sizes)
        if self.numeric_norm is not None:
            parts.append(self.numeric_norm(numeric))  # (N, D)
        return self.head(self.blocks(torch.cat(parts, dim=1)))  # (N, out_features)
