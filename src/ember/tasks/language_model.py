"""The language-modelling task: predict every next token of a sequence.

A batch is ``(ids, next_ids)``, both ``(N, T)`` token ids, ``next_ids`` being ``ids`` shifted by
one step. The module maps ``(N, T)`` ids to ``(N, T, V)`` logits. The loss is the mean
cross-entropy per token in nats; ``bits_per_token`` is the same in bits (divided by ln 2), the
usual unit for character models ("bits per character"), and ``accuracy`` is how often the most
likely next token is the right one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ember.errors import ShapeError
from ember.train.task import Task

Batch = tuple[torch.Tensor, ...]


class LanguageModel(Task):
    """Next-token prediction: cross-entropy of ``module(ids)`` against the next ids.

    Args:
        module: maps ``(N, T)`` token ids to ``(N, T, vocabulary_size)`` logits.
        label_smoothing: share of each target spread over the vocabulary (0: none).

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Embedding(5, 8), torch.nn.Linear(8, 5))
        >>> ids = torch.randint(0, 5, (2, 7))
        >>> out = LanguageModel(net).training_step((ids[:, :-1], ids[:, 1:]))
        >>> sorted(out)
        ['accuracy', 'bits_per_token', 'loss']
    """

    metrics = None  # per-token scores come from the step outputs, averaged by the engine

    def __init__(self, module: nn.Module, *, label_smoothing: float = 0.0) -> None:
        super().__init__(module)
        self.forward = module
        self.label_smoothing = label_smoothing

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check that the data is (ids, next ids) of one shape, before any training step."""
        if len(example) < 2:
            raise ShapeError(
                "a language model trains on (ids, next_ids) pairs, received one tensor. "
                "Fix: pass the targets too, e.g. ids[:, :-1] and ids[:, 1:]."
            )
        ids, targets = example[0], example[1]
        if ids.ndim != 2 or ids.shape != targets.shape or ids.is_floating_point():
            raise ShapeError(
                f"a language model expects integer ids and next ids of one shape (N, T), received "
                f"{tuple(ids.shape)} {ids.dtype} and {tuple(targets.shape)} {targets.dtype}. "
                f"Fix: cut the token stream into windows of T + 1 ids: x = w[:, :-1], y = w[:, 1:]."
            )

    def compile(self) -> None:
        """Route the forward pass through ``torch.compile``."""
        self.forward = torch.compile(self.forward)

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Forward, mean cross-entropy per token (nats), bits per token and accuracy."""
        ids, targets = batch[0], batch[1]
        logits = self.forward(ids)  # (N, T, V)
        if logits.ndim != 3 or logits.shape[:2] != ids.shape:
            raise ShapeError(
                f"a language model's module must return (N, T, V) logits for (N, T) ids; for ids "
                f"{tuple(ids.shape)} it returned {tuple(logits.shape)}. Fix: return_sequences=True "
                f"on recurrent layers, and no pooling before the output layer."
            )
        flat_logits = logits.reshape(-1, logits.shape[-1])  # (N*T, V)
        flat_targets = targets.reshape(-1)  # (N*T,)
        loss = F.cross_entropy(flat_logits, flat_targets, label_smoothing=self.label_smoothing)
        with torch.no_grad():
            nats = loss if not self.label_smoothing else F.cross_entropy(flat_logits, flat_targets)
            accuracy = (flat_logits.argmax(-1) == flat_targets).float().mean()
        return {"loss": loss, "bits_per_token": nats / math.log(2), "accuracy": accuracy}

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Like :meth:`training_step`; run by the engine under ``inference_mode``."""
        return self.training_step(batch)

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """Next-token logits ``(N, T, V)`` for ``batch[0]``."""
        return self.module(batch[0])
