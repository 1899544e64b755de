"""Rosenblatt's perceptron, trained by the perceptron learning rule (no backpropagation).

The rule, for each sample: predict ``ŷ = step(w·x + b)``; if it is wrong, move the weights
toward the sample, ``w += lr (y − ŷ) x`` and ``b += lr (y − ŷ)``. It converges whenever the
classes are linearly separable (AND, OR) and never when they are not (XOR) — the limit that
hidden layers trained by backpropagation remove.
"""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError, DataError
from ember.layers import Dense
from ember.model import Model

Batch = tuple[torch.Tensor, ...]


class PerceptronRule:
    """The task: one perceptron-rule update per batch (per sample with ``batch_size=1``).

    The engine runs it like any task; ``optimizes_itself`` tells it to skip backward and the
    optimizer step, since the rule updates the weights directly.
    """

    optimizes_itself = True

    def __init__(self, module: Perceptron, learning_rate: float = 1.0) -> None:
        self.module = module
        self.learning_rate = learning_rate
        self.metrics = None
        self.class_weight = None

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check that labels are 0/1 before the first update."""
        if len(example) < 2:
            return
        labels = example[1]
        if not bool(((labels == 0) | (labels == 1)).all()):
            raise DataError(
                f"the perceptron learns two classes labelled 0 and 1, received labels "
                f"{sorted(set(labels.flatten().tolist()))[:10]}. Fix: map your classes to 0/1."
            )

    @torch.no_grad()
    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        x, y = batch[0].flatten(1), batch[1].view(-1).to(batch[0].dtype)
        dense = self.module.dense
        predicted = self.module(x)
        error = y - predicted  # (B,), each in {-1, 0, 1}
        dense.weight.add_((self.learning_rate * error @ x).view_as(dense.weight))
        dense.bias.add_(self.learning_rate * error.sum())
        mistakes = error.abs().mean()
        return {"loss": mistakes, "accuracy": 1 - mistakes}

    @torch.no_grad()
    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        predicted = self.module(batch[0].flatten(1))
        mistakes = (batch[1].view(-1).to(predicted.dtype) - predicted).abs().mean()
        return {"loss": mistakes, "accuracy": 1 - mistakes}

    def predict_step(self, batch: Batch) -> torch.Tensor:
        return self.module(batch[0].flatten(1))


class Perceptron(Model):
    """A single threshold unit: ``step(w·x + b)``, learned by the perceptron rule.

    ``fit`` defaults to ``batch_size=1`` (the classic online rule). The logs report the
    fraction of misclassified samples as ``loss`` and its complement as ``accuracy``.

    Example:
        >>> import numpy as np
        >>> from ember import models
        >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
        >>> model = models.Perceptron(device="cpu")
        >>> _ = model.fit(x, np.array([0, 0, 0, 1]), epochs=10, verbose=0)   # AND
        >>> model.predict(x).tolist()
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(
        self, learning_rate: float = 1.0, *, device: str = "auto", name: str | None = None
    ) -> None:
        super().__init__(name=name or "perceptron")
        self.dense = Dense(1, kernel_initializer="zeros")
        self.compile(learning_rate=learning_rate, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.dense(x.flatten(1)).squeeze(-1) > 0).to(x.dtype)

    def compile(self, learning_rate: float = 1.0, *, device: str = "auto") -> None:  # type: ignore[override]
        """Set the learning rate of the rule (and the device)."""
        from ember.train.trainer import Trainer

        if not isinstance(learning_rate, (int, float)) or learning_rate <= 0:
            raise ConfigError(
                f"expected a positive number, received learning_rate={learning_rate!r}"
            )
        self.task = PerceptronRule(self, learning_rate)
        self.trainer = Trainer(self.task, device=device)
        self.trainer.keras_model = self

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = 1, **kwargs: Any):  # type: ignore[override]
        """Keras ``fit``, with ``batch_size=1`` by default (one rule update per sample)."""
        return super().fit(x, y, batch_size=batch_size, **kwargs)
