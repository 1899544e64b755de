"""Language models built from ember's layers: a recurrent one and a small GPT.

Both map token ids ``(N, T)`` to next-token logits ``(N, T, V)`` and can generate
incrementally with ``generation_step(ids, state) -> (logits (N, V), state)``: the recurrent
model carries its hidden states, the transformer its key/value caches, so each new token costs
one step of work instead of a pass over the whole context (see :mod:`ember.nlp.generation`).
"""

from __future__ import annotations

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.layers import (
    GRU,
    LSTM,
    Dense,
    Dropout,
    Embedding,
    LayerNormalization,
    SimpleRNN,
    TokenAndPositionEmbedding,
    TransformerDecoder,
)
from ember.layers.attention import KeyValueCache

CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}


class RecurrentLanguageModel(nn.Module):
    """Embedding, ``num_layers`` recurrent layers (SimpleRNN, LSTM or GRU), a Dense output.

    Example:
        >>> net = RecurrentLanguageModel(vocabulary_size=30, units=16, cell="gru")
        >>> net(torch.randint(0, 30, (2, 7))).shape
        torch.Size([2, 7, 30])
    """

    def __init__(
        self,
        vocabulary_size: int,
        *,
        embedding_dim: int = 64,
        units: int = 512,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        vocabulary_size = checks.positive_int("vocabulary_size", vocabulary_size)
        embedding_dim = checks.positive_int("embedding_dim", embedding_dim)
        units = checks.positive_int("units", units)
        num_layers = checks.positive_int("num_layers", num_layers)
        if cell not in CELLS:
            raise ConfigError(f"expected cell in {', '.join(CELLS)}, received cell={cell!r}")
        self.vocabulary_size = vocabulary_size
        self.embedding = Embedding(vocabulary_size, embedding_dim)
        self.recurrent = nn.ModuleList(
            CELLS[cell](units, return_sequences=True, return_state=True) for _ in range(num_layers)
        )
        self.dropout = Dropout(dropout)
        self.output = Dense(vocabulary_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (N, T) -> (N, T, V)
        logits, _ = self._run(ids, None)
        return logits

    def generation_step(self, ids: torch.Tensor, state: list | None) -> tuple[torch.Tensor, list]:
        """Logits of the token after ``ids`` (N, V), and the states to continue from."""
        logits, state = self._run(ids, state)
        return logits[:, -1], state

    def _run(self, ids: torch.Tensor, state: list | None) -> tuple[torch.Tensor, list]:
        x = self.embedding(ids)  # (N, T, embedding_dim)
        new_state = []
        for index, layer in enumerate(self.recurrent):
            initial = None if state is None else state[index]
            x, *layer_state = layer(x, initial_state=initial)  # x: (N, T, units)
            new_state.append(layer_state)
            x = self.dropout(x)
        return self.output(x), new_state  # (N, T, V)


class TransformerLanguageModel(nn.Module):
    """A small GPT: token + learned position embeddings, pre-norm causal decoder blocks, a final
    layer norm and a Dense output. ``context`` is the longest sequence it reads.

    Example:
        >>> net = TransformerLanguageModel(30, context=16, dim=32, num_layers=2, num_heads=4)
        >>> net(torch.randint(0, 30, (2, 16))).shape
        torch.Size([2, 16, 30])
    """

    def __init__(
        self,
        vocabulary_size: int,
        *,
        context: int = 128,
        dim: int = 128,
        num_layers: int = 4,
        num_heads: int = 4,
        intermediate_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        vocabulary_size = checks.positive_int("vocabulary_size", vocabulary_size)
        context = checks.positive_int("context", context)
        dim = checks.positive_int("dim", dim)
        num_layers = checks.positive_int("num_layers", num_layers)
        num_heads = checks.positive_int("num_heads", num_heads)
        if dim % num_heads:
            raise ConfigError(
                f"dim={dim} must be a multiple of num_heads={num_heads}. "
                f"Fix: e.g. dim={num_heads * max(1, dim // num_heads)}."
            )
        self.vocabulary_size = vocabulary_size
        self.context = context
        self.embedding = TokenAndPositionEmbedding(vocabulary_size, context, dim)
        self.blocks = nn.ModuleList(
            TransformerDecoder(
                intermediate_dim or 4 * dim,
                num_heads,
                dropout=dropout,
                activation="gelu",
                norm_first=True,
            )
            for _ in range(num_layers)
        )
        self.norm = LayerNormalization()
        self.output = Dense(vocabulary_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # (N, T) -> (N, T, V)
        x = self.embedding(ids)  # (N, T, dim)
        for block in self.blocks:
            x = block(x)  # causal self-attention: step t sees steps <= t
        return self.output(self.norm(x))

    def generation_step(
        self, ids: torch.Tensor, state: list[KeyValueCache] | None
    ) -> tuple[torch.Tensor, list[KeyValueCache]]:
        """Logits of the token after ``ids`` (N, V), and the grown key/value caches.

        ``state`` None starts new caches from the whole of ``ids`` (the prompt); later calls
        pass only the new tokens. The caller starts again when the context is full.
        """
        caches = state or [KeyValueCache() for _ in self.blocks]
        x = self.embedding(ids, start_index=caches[0].length)  # (N, t, dim)
        new_caches = []
        for block, cache in zip(self.blocks, caches):
            x, cache = block(x, cache=cache)
            new_caches.append(cache)
        return self.output(self.norm(x[:, -1])), new_caches
