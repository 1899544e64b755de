"""Rosenblatt's perceptron, trained by the perceptron learning rule (no hidden layers).

The rule, for each sample: predict ``ŷ = step(w·x + b)``; if it is wrong, move the weights
toward the sample, ``w += lr (y − ŷ) x`` and ``b += lr (y − ŷ)``. It converges whenever the
classes are linearly separable (AND, OR) and never when they are not (XOR) — the limit that
hidden layers trained by backpropagation remove. The rule is the task
:class:`ember.tasks.PerceptronRule`, run by the one engine.
"""

from __future__ import annotations

from typing import Any

import torch

from ember import checks
from ember.layers import Dense
from ember.models.model import Model
from ember.tasks.perceptron import PerceptronRule
from ember.train.trainer import Trainer


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
        learning_rate = checks.positive_number("learning_rate", learning_rate)
        self.task = PerceptronRule(self, learning_rate)
        self.trainer = Trainer(self.task, device=device)

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = 1, **kwargs: Any):  # type: ignore[override]
        """Keras ``fit``, with ``batch_size=1`` by default (one rule update per sample)."""
        return super().fit(x, y, batch_size=batch_size, **kwargs)
