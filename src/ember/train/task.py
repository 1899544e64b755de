"""The task contract: what the engine calls on a task, in what order, and what it does itself.

A *task* says how one training step turns a batch into named losses. The engine
(:class:`ember.Trainer`) owns everything else: the loop, the device, autocast, every backward
pass, loss scaling, gradient clipping, every optimizer step, learning-rate schedules, callbacks
and checkpoints. So mixed precision, ``torch.compile`` and the fast fused step apply to every task.

What the engine calls, in order (each default here does the usual thing):

1. ``setup(example, device)``: once before each ``fit``/``evaluate``/``predict``, with the whole
   in-memory data (or its first batch). Check the data, dry-run the module (which builds lazy
   layers), create metrics. Raise an :class:`ember.EmberError` here, before any step.
2. ``objectives()``: once, when ``fit`` first builds the optimizers. Each :class:`Objective`
   names a loss in the step's outputs, the module whose parameters it moves, its optimizer and
   how often it steps. The default is one objective, ``"loss"``, over the whole ``module``, with
   the Trainer's optimizer.
3. ``compile()``: once, when the Trainer was made with ``compile=True``.
4. ``training_step(batch)``: per training batch, under autocast; it returns a dict of tensors
   holding each objective's loss (the engine then runs ``backward``, clipping and the step) and
   anything else to log (averaged per epoch, like the loss). A task with several objectives is
   called once per objective due at that step, in order, as ``training_step(batch, objective)``
   with the objective's loss name, after the previous objective's optimizer has stepped: a GAN's
   generator is judged by the discriminator that was just updated.
5. ``validation_step(batch)``: per validation batch, under ``torch.inference_mode``.
6. ``predict_step(batch)``: per batch of ``Trainer.predict``, under ``torch.inference_mode``.
7. ``state_dict()`` / ``load_state_dict(state)``: the task's own training state (persistent
   chains, noise generators), saved in every checkpoint and restored before resuming.

A task never steps an optimizer, never calls ``backward`` and owns no loop.

Example: a task of one's own (see docs/architecture.md for a longer one).
    >>> import torch, ember
    >>> class MeanSquaredError(ember.train.Task):
    ...     def training_step(self, batch):
    ...         x, y = batch
    ...         return {"loss": torch.nn.functional.mse_loss(self.module(x), y)}
    >>> task = MeanSquaredError(torch.nn.Linear(3, 1))
    >>> trainer = ember.Trainer(task, "sgd", device="cpu")
    >>> history = trainer.fit((torch.randn(64, 3), torch.randn(64, 1)), epochs=2, verbose=0)
    >>> len(history.history["loss"])
    2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError

Batch = tuple[torch.Tensor, ...]
Outputs = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Objective:
    """One named loss the engine minimises: over which parameters, with what, and how often.

    Args:
        loss: the key of the loss in ``training_step``'s outputs.
        parameters: the module whose parameters this loss moves (None: the task's whole
            ``module``). Gradients flow into these parameters only.
        optimizer: anything :func:`ember.optimizers.get` accepts: a name, a spec (with its
            clipping and schedule), a torch optimizer. None: the Trainer's ``optimizer``.
        every: step on every ``every``-th training step only (1: on each). A WGAN critic
            trained five times per generator step gives the generator's objective ``every=5``.

    Example:
        >>> import torch
        >>> generator, critic = torch.nn.Linear(2, 4), torch.nn.Linear(4, 1)
        >>> [Objective("d_loss", critic, "adam"), Objective("g_loss", generator, "adam", every=5)]
        [Objective(loss='d_loss', ..., every=1), Objective(loss='g_loss', ..., every=5)]
    """

    loss: str = "loss"
    parameters: nn.Module | None = None
    optimizer: Any = None
    every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.loss, str) or not self.loss:
            raise ConfigError(
                f"expected the name of a loss in the step's outputs, received loss={self.loss!r}"
            )
        if self.parameters is not None and not isinstance(self.parameters, nn.Module):
            raise ConfigError(
                f"an objective's parameters are an nn.Module's (or None for the task's whole "
                f"module), received parameters={type(self.parameters).__name__}. Fix: pass the "
                f"sub-module this loss trains, e.g. Objective('g_loss', gan.generator)."
            )
        checks.positive_int("every", self.every)

    def due(self, step: int) -> bool:
        """Whether this objective steps on training step ``step`` (counted from 0).

        Example:
            >>> [Objective(every=3).due(step) for step in range(6)]
            [False, False, True, False, False, True]
        """
        return (step + 1) % self.every == 0


class Task:
    """Base class of every task: subclass it and write ``training_step``.

    ``module`` is what the engine moves to the device, builds, checkpoints and (by default)
    optimizes; ``metrics`` is an :class:`ember.metrics.MetricSet` the engine resets, moves and
    reads once per epoch, or None when the step outputs are the scores. Every other method has
    a default; see the module docstring for when the engine calls each one.
    """

    module: nn.Module
    metrics: Any = None

    def __init__(self, module: nn.Module) -> None:
        if not isinstance(module, nn.Module):
            raise ConfigError(
                f"a task trains a torch.nn.Module, received {type(module).__name__}. "
                f"Fix: pass the network, e.g. {type(self).__name__}(torch.nn.Linear(4, 1))."
            )
        self.module = module

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check ``example`` (the whole in-memory data or a first batch) before any step."""

    def objectives(self) -> list[Objective]:
        """The named losses the engine minimises, in the order it steps them."""
        return [Objective()]

    def compile(self) -> None:
        """Run the forward pass through ``torch.compile`` (``Trainer(compile=True)``)."""
        self.module.compile()

    def training_step(self, batch: Batch) -> Outputs:
        """The step's losses (each objective's, with gradients) and anything else to log."""
        raise NotImplementedError(
            f"{type(self).__name__} must define training_step(batch) returning "
            f"{{'loss': tensor, ...}}"
        )

    def validation_step(self, batch: Batch) -> Outputs:
        """The same outputs on validation data (run without gradients); default: the step's."""
        return self.training_step(batch)

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """What ``Trainer.predict`` returns for a batch; default: ``module(batch[0])``."""
        return self.module(batch[0])

    def state_dict(self) -> dict[str, Any]:
        """The task's own training state, for checkpoints (tensors, numbers, lists, dicts)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
