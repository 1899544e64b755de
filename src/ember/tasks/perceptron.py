"""Rosenblatt's perceptron rule as a task: SGD on the perceptron criterion, on the one engine.

The rule, for each sample: predict ``ŷ = step(w·x + b)``; if it is wrong, move the weights
toward the sample, ``w += lr (y − ŷ) x`` and ``b += lr (y − ŷ)``. That is exactly one step of
plain SGD (rate ``lr``) on the *perceptron criterion* ``(ŷ − y)(w·x + b)`` with ``ŷ`` held
fixed: zero for a right answer, the distance to the boundary for a wrong one, and with gradient
``(ŷ − y) x``. Summed over a batch, it is the batch rule. So the engine's own backward pass and
SGD step apply Rosenblatt's rule; no gradient flows through the step function itself.
"""

from __future__ import annotations

import torch
from torch import nn

from ember import optimizers
from ember.errors import DataError
from ember.train.task import Objective, Task

Batch = tuple[torch.Tensor, ...]


class PerceptronRule(Task):
    """The perceptron rule for a module with a ``dense`` layer of one unit (``Perceptron``).

    Logged per epoch: ``loss``, the fraction of misclassified samples, its complement
    ``accuracy``, and ``criterion``, the summed perceptron criterion the engine minimises.

    Args:
        module: computes ``step(dense(x))``; its ``dense`` layer holds ``w`` and ``b``.
        learning_rate: the rule's step size (SGD's learning rate).

    Example:
        >>> import torch, ember
        >>> from ember.models import Perceptron
        >>> task = PerceptronRule(Perceptron(device="cpu"), learning_rate=1.0)
        >>> task.objectives()
        [Objective(loss='criterion', parameters=None, optimizer=SGD(learning_rate=1.0), every=1)]
    """

    metrics = None  # the step outputs are the scores

    def __init__(self, module: nn.Module, learning_rate: float = 1.0) -> None:
        super().__init__(module)
        self.learning_rate = learning_rate

    def objectives(self) -> list[Objective]:
        """Plain SGD at the rule's rate on the criterion: the perceptron update."""
        return [Objective("criterion", optimizer=optimizers.SGD(self.learning_rate))]

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

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The criterion ``Σ (ŷ − y)(w·x + b)`` and the fraction of mistakes."""
        x, y = batch[0].flatten(1), batch[1].view(-1).to(batch[0].dtype)
        scores = self.module.dense(x).squeeze(-1)  # (B,): w·x + b
        predicted = (scores > 0).to(scores.dtype).detach()  # (B,): ŷ, held fixed
        criterion = ((predicted - y) * scores).sum()
        mistakes = (y - predicted).abs().mean()
        return {"criterion": criterion, "loss": mistakes, "accuracy": 1 - mistakes}
