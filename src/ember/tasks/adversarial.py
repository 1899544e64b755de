"""Adversarial training (Madry et al. 2018): each step trains on the batch after an attack.

For every training batch the task attacks the current network with PGD within ``epsilon``
(:func:`ember.attacks.pgd`, in eval mode, gradients to the inputs only) and returns the
supervised loss on the attacked batch; the engine then does the backward pass and the step as for
any task. ``steps=1, step_size=1.25 * epsilon`` with a random start is "fast" adversarial
training (FGSM with a random start, Wong et al. 2020), about twice a clean step's cost where
PGD-7 is about eight times. Validation stays clean: the accuracy an attack removes is measured
by :func:`ember.attacks.robust_accuracy` after training.

Example:
    >>> import torch, ember
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    >>> task = AdversarialTraining(net, "sparse_categorical_crossentropy", epsilon=0.1,
    ...                            steps=1, step_size=0.125, from_logits=True)
    >>> x, y = torch.rand(64, 8), torch.randint(0, 3, (64,))
    >>> _ = ember.Trainer(task, "adam", device="cpu").fit((x, y), epochs=1, verbose=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember import attacks, checks, losses
from ember.tasks.supervised import Supervised
from ember.train.task import Batch, Task


class AdversarialTraining(Task):
    """Supervised learning on PGD-attacked batches.

    Args:
        module: the classifier (pixels in ``bounds``).
        loss, metrics, from_logits: as for :class:`ember.tasks.Supervised` (the training
            metrics are on the attacked batches).
        epsilon: the attack's radius in pixel units (L∞ unless ``norm="l2"``).
        steps, step_size, norm, random_start: the PGD attack's (:func:`ember.attacks.pgd`).
        bounds: the pixel range.
    """

    def __init__(
        self,
        module: nn.Module,
        loss: Any = "sparse_categorical_crossentropy",
        metrics: Sequence[Any] | None = ("accuracy",),
        *,
        epsilon: float,
        steps: int = 7,
        step_size: float | None = None,
        norm: str = "linf",
        random_start: bool = True,
        bounds: tuple[float, float] = (0.0, 1.0),
        from_logits: bool = False,
    ) -> None:
        super().__init__(module)
        self.epsilon = attacks.check_epsilon(epsilon, bounds)
        self.steps = checks.positive_int("steps", steps)
        self.step_size = step_size
        self.norm = checks.one_of("norm", norm, attacks.NORMS, fix="norm='linf' (or 'l2')")
        self.random_start = random_start
        self.bounds = bounds
        # An ember Sequential ending in softmax trains on its logits (as Model.compile does).
        loss, logits = losses.get(loss), None
        final = getattr(module, "final_activation", None)
        fused = losses.logits_version(loss, final()) if callable(final) else None
        if fused is not None and not from_logits:
            loss, logits = fused, module.logits
        self.supervised = Supervised(module, loss, metrics, from_logits=from_logits, logits=logits)

    @property
    def metrics(self) -> Any:  # the supervised step's, created in setup
        return self.supervised.metrics

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the data against the network (see :meth:`Supervised.setup`)."""
        self.supervised.setup(example, device)

    def compile(self) -> None:
        """Compile the forward pass the loss uses."""
        self.supervised.compile()

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The supervised loss on the batch attacked within ``epsilon``."""
        x, y = batch[0], batch[1]
        attacked = attacks.pgd(
            self.module,
            x,
            y,
            self.epsilon,
            steps=self.steps,
            step_size=self.step_size,
            norm=self.norm,
            random_start=self.random_start,
            bounds=self.bounds,
        )
        return self.supervised.validation_step((attacked, y, *batch[2:]))

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The supervised loss on clean data."""
        return self.supervised.validation_step(batch)

    def state_dict(self) -> dict[str, Any]:
        """Nothing of its own: the attack's randomness comes from torch's generator."""
        return {}
