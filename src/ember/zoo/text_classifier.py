"""Transfer learning for text: a pretrained BERT encoder with a classifier on its pooled tokens.

``PretrainedTextClassifier`` fine-tunes only the top ``trainable_layers`` of the encoder (0: pure
feature extraction) plus a linear classifier on the mean of the token vectors. The frozen bottom
(embeddings and the layers below) computes the same thing every epoch, so it can be run once:
:meth:`PretrainedTextClassifier.frozen_features` gives those outputs for a whole dataset, and the
model trains on them as if it had read the ids. The cached features carry the padding mask as
one extra channel (``(N, T, D + 1)``), so a batch stays one tensor and the engine's fast
in-memory path slices it like any other input.

``forward`` takes either: integer ids ``(N, T)`` (padding id 0; the whole encoder runs) or cached
features ``(N, T, D + 1)`` (only the trainable top runs). Both give the same logits.

Example:
    >>> import torch
    >>> from ember.zoo.bert import BertConfig, BertEncoder
    >>> encoder = BertEncoder(BertConfig(vocabulary_size=30, hidden_dim=8, num_layers=2,
    ...                                  num_heads=2, intermediate_dim=16, max_positions=12))
    >>> model = PretrainedTextClassifier(encoder, num_classes=2, trainable_layers=1).eval()
    >>> ids = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]])
    >>> features = model.frozen_features(ids)
    >>> features.shape
    torch.Size([2, 4, 9])
    >>> torch.allclose(model(ids), model(features), atol=1e-6)
    True
"""

from __future__ import annotations

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.zoo.bert import BertEncoder, mean_pool


class PretrainedTextClassifier(nn.Module):
    """Class logits from a pretrained :class:`BertEncoder`, its bottom frozen.

    Args:
        encoder: the pretrained encoder (e.g. ``models.pretrained.load_minilm()[0]``).
        num_classes: number of classes (logits out).
        trainable_layers: how many of the encoder's top layers train (0: none, the encoder is a
            fixed feature extractor; ``len(encoder.layers)``: all but the embeddings).
        dropout: dropout on the pooled vector before the classifier.
    """

    def __init__(
        self,
        encoder: BertEncoder,
        num_classes: int,
        *,
        trainable_layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        depth = len(encoder.layers)
        if isinstance(trainable_layers, bool) or not 0 <= trainable_layers <= depth:
            raise ConfigError(
                f"expected trainable_layers between 0 and {depth} (the encoder's layers), "
                f"received {trainable_layers!r}"
            )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ConfigError(f"expected num_classes of at least 2, received {num_classes!r}")
        self.encoder = encoder
        self.frozen_depth = depth - trainable_layers
        for parameter in self.frozen_parameters():
            parameter.requires_grad_(False)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_dim, num_classes)

    def frozen_parameters(self) -> list[nn.Parameter]:
        """The encoder's parameters below the trainable layers (embeddings included)."""
        trainable = {id(p) for layer in self.top_layers() for p in layer.parameters()}
        return [p for p in self.encoder.parameters() if id(p) not in trainable]

    def top_layers(self) -> list[nn.Module]:
        """The encoder layers that train."""
        return list(self.encoder.layers[self.frozen_depth :])

    def train(self, mode: bool = True) -> PretrainedTextClassifier:
        """Train mode for the trainable part only: the frozen bottom never drops out, so that
        reading ids and reading cached features give the same result."""
        super().train(mode)
        self.encoder.embeddings_dropout.eval()
        for layer in self.encoder.layers[: self.frozen_depth]:
            layer.eval()
        return self

    @torch.no_grad()
    def frozen_features(self, ids: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """What the frozen bottom makes of ``ids`` ``(N, T)``: ``(N, T, D + 1)`` features whose
        last channel is the padding mask (1 at real tokens). Batches run by length, padding
        trimmed, so caching a dataset costs little more than its real tokens."""
        if ids.ndim != 2 or ids.is_floating_point():
            raise ShapeError(
                f"frozen_features expects integer ids of shape (N, T), received "
                f"{tuple(ids.shape)} {ids.dtype}. Fix: tokenizer.encode_batch(texts)."
            )
        device = self.classifier.weight.device
        width = ids.shape[1]
        lengths = (ids != 0).sum(1)
        order = torch.argsort(lengths, descending=True, stable=True)
        out = torch.zeros(len(ids), width, self.encoder.config.hidden_dim + 1)
        was_training = self.training
        self.eval()
        try:
            for start in range(0, len(ids), batch_size):
                rows = order[start : start + batch_size]
                used = max(int(lengths[rows].max()), 1)
                batch = ids[rows, :used].to(device)
                out[rows, :used] = self._bottom(batch).float().cpu()
        finally:
            self.train(was_training)
        return out

    def _bottom(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != 0
        self.encoder.check_inputs(ids, None, None)
        x = self.encoder.embed(ids)
        for layer in self.encoder.layers[: self.frozen_depth]:
            x = layer(x, mask=mask)
        return torch.cat([x, mask.unsqueeze(-1).to(x.dtype)], dim=-1)  # (N, T, D + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point():
            with torch.no_grad():
                x = self._bottom(x)
        elif x.ndim != 3 or x.shape[-1] != self.encoder.config.hidden_dim + 1:
            raise ShapeError(
                f"expected token ids (N, T) or cached features (N, T, "
                f"{self.encoder.config.hidden_dim + 1}), received {tuple(x.shape)} {x.dtype}. "
                f"Fix: pass ids from the encoder's tokenizer, or model.frozen_features(ids)."
            )
        hidden, mask = x[..., :-1], x[..., -1] > 0.5
        for layer in self.top_layers():
            hidden = layer(hidden, mask=mask)
        return self.classifier(self.dropout(mean_pool(hidden, mask)))  # (N, classes)
