"""What every ember agent shares with the training engine: epochs, callbacks and its state.

An agent's loop acts in an environment, so it is not :meth:`ember.Trainer.fit`'s loop over
batches; but it calls the same callbacks at the same moments (``on_fit_start``,
``on_epoch_start``, ``on_batch_end`` after each environment step, ``on_epoch_end`` with the
epoch's numbers, ``on_fit_end``) and shows callbacks the attributes they read from a trainer
(``model``, ``optimizer``, ``global_step``, ``epoch``, ``epochs``, ``stop_training``,
``state_dict()``...). So ember's metrics log, checkpoints, TensorBoard, early stopping and
progress bar work for agents unchanged, and a run folder of an agent is like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember.train.callback import HOOKS, Callback
from ember.train.hooks import Hooks, attach, call


class Agent:
    """Base class of ember's agents: subclass it, write ``run_epoch`` and the state methods.

    ``learn(epochs, callbacks=...)`` runs epochs ``initial_epoch`` to ``epochs - 1``; a
    subclass's ``run_epoch(epoch)`` acts for one epoch (calling :meth:`batch_end` after each
    environment step) and returns the epoch's logs (floats).
    """

    model: nn.Module
    steps_per_epoch: int | None = None  # environment steps per epoch (the progress bar's total)
    stop_training: bool = False
    monitor: str = "eval_return"  # the logged number that picks a run's `best` checkpoint

    def __init__(self) -> None:
        self.epoch = 0  # epochs finished
        self.global_step = 0  # environment steps taken (all environments together)
        self.steps_done = 0  # of the epoch running now
        self._epochs = 0
        self._hooks: Hooks = {hook: [] for hook in HOOKS}

    @property
    def epochs(self) -> int:
        """Epochs of the ``learn`` running now."""
        return self._epochs

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The optimizer of the agent's network (None before the first update)."""
        return None

    def learn(
        self,
        epochs: int,
        *,
        callbacks: Sequence[Callback] | None = None,
        initial_epoch: int = 0,
        verbose: int = 1,
    ) -> list[dict[str, float]]:
        """Act and learn until epoch ``epochs``; return each epoch's logs."""
        self._epochs = epochs
        self._hooks = attach(callbacks or (), self, verbose)  # callbacks read a trainer's names
        self.stop_training = False
        history = []
        call(self._hooks, "on_fit_start", {})
        for epoch in range(max(initial_epoch, self.epoch), epochs):
            call(self._hooks, "on_epoch_start", epoch, {})
            self.steps_done = 0
            logs = self.run_epoch(epoch)
            self.epoch = epoch + 1
            history.append(logs)
            call(self._hooks, "on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        call(
            self._hooks, "on_fit_end", dict(history[-1]) if history else {}
        )  # as Keras' on_train_end
        return history

    def batch_end(self, index: int) -> None:
        """Call after each environment step of an epoch (the progress bar redraws from it)."""
        self.steps_done = index + 1
        for hook in (*self._hooks["on_batch_end"], *self._hooks.get("on_train_batch_end", ())):
            hook(index, {})

    def run_epoch(self, epoch: int) -> dict[str, float]:
        """Act (and learn) for one epoch; return its logs."""
        raise NotImplementedError

    def test(self, episodes: int) -> dict[str, float]:
        """The final scores of a run: the greedy policy over ``episodes`` held-out episodes."""
        raise NotImplementedError

    def play(self, episodes: int, *, seed: int) -> list[float]:
        """Each return of ``episodes`` greedy episodes from starting states ``seed``, ``seed+1``..."""
        raise NotImplementedError

    def record(self, path: Path, *, seed: int) -> Path:
        """Film one greedy episode from starting state ``seed`` into the GIF ``path``."""
        raise NotImplementedError

    def write_figures(self, folder: Path, epochs: list[dict[str, Any]]) -> list[Path]:
        """Draw the run's pictures into ``folder`` (training curves, a filmed episode...)."""
        return []

    def running_logs(self) -> dict[str, float]:
        """The epoch's numbers so far, for the progress bar."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (checkpointable values only)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        raise NotImplementedError
