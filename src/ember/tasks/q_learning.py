"""The deep Q-network update as a task: the TD loss of a batch of replayed transitions.

A batch is ``(observations, actions, rewards, next_observations, discounts)`` and, from a
prioritized buffer, importance ``weights`` as a sixth tensor. ``discounts`` is
``gamma ** n * (1 - terminated)`` for an n-step transition, worked out when the transition was
stored: termination stops the bootstrap, truncation by a time limit does not (the episode
could have gone on), and n-step returns need no special case here.

The TD target is ``reward + discount * Q_target(next, a*)`` with ``a* = argmax Q_target(next)``
(DQN, Mnih et al. 2015) or ``a* = argmax Q_online(next)`` (Double DQN, van Hasselt et al.
2016). The engine does the backward pass, the gradient clipping and the optimizer step, as for
any task; the acting loop that fills the buffer lives in :mod:`ember.rl`.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from ember import checks
from ember.errors import ShapeError
from ember.train.task import Task

Batch = tuple[torch.Tensor, ...]


class QLearning(Task):
    """The DQN update: Huber (or squared) TD error against a target network.

    Args:
        module: the Q-network, observations ``(B, *obs)`` -> action values ``(B, A)``.
        double: pick the next action with the online network (Double DQN).
        loss: ``"huber"`` (``smooth_l1``, delta 1, as DQN and Stable-Baselines3) or ``"mse"``.

    The target network is a copy of ``module`` that the agent refreshes with
    :meth:`update_target` (a hard copy every N steps, or Polyak averaging); it is saved in the
    task's :meth:`state_dict`, so a resumed run continues with the same target.

    Example:
        >>> import torch
        >>> task = QLearning(torch.nn.Linear(4, 2))
        >>> batch = (torch.randn(8, 4), torch.randint(0, 2, (8,)), torch.ones(8),
        ...          torch.randn(8, 4), torch.full((8,), 0.99))
        >>> sorted(task.training_step(batch))
        ['loss', 'q_value']
    """

    def __init__(self, module: nn.Module, *, double: bool = False, loss: str = "huber") -> None:
        super().__init__(module)
        self.double = bool(double)
        self.loss = checks.one_of("loss", loss, ("huber", "mse"))
        self.target = copy.deepcopy(module).requires_grad_(False)
        self.last_td_error: torch.Tensor | None = None  # per sample, for prioritized replay

    def setup(self, example: Batch, device: torch.device) -> None:
        self.target.to(device)
        if len(example) not in (5, 6):
            raise ShapeError(
                f"a Q-learning batch is (observations, actions, rewards, next_observations, "
                f"discounts[, weights]), received {len(example)} tensors. Fix: sample it from "
                f"an ember.rl.ReplayBuffer."
            )

    def td_target(
        self, rewards: torch.Tensor, next_observations: torch.Tensor, discounts: torch.Tensor
    ) -> torch.Tensor:
        """``reward + discount * Q_target(next, a*)``, without gradients (shape ``(B,)``)."""
        with torch.no_grad():
            next_values = self.target(next_observations)
            if self.double:
                best = self.module(next_observations).argmax(dim=1, keepdim=True)
                bootstrap = next_values.gather(1, best).squeeze(1)
            else:
                bootstrap = next_values.max(dim=1).values
            return rewards + discounts * bootstrap.float()

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        observations, actions, rewards, next_observations, discounts = batch[:5]
        values = self.module(observations).gather(1, actions.long().unsqueeze(1)).squeeze(1)
        targets = self.td_target(rewards, next_observations, discounts)
        values = values.float()
        self.last_td_error = (values - targets).detach()
        if self.loss == "huber":
            per_sample = functional.smooth_l1_loss(values, targets, reduction="none")
        else:
            per_sample = functional.mse_loss(values, targets, reduction="none")
        if len(batch) == 6:  # prioritized replay's importance-sampling weights
            per_sample = per_sample * batch[5]
        return {"loss": per_sample.mean(), "q_value": values.detach().mean()}

    def predict_step(self, batch: Batch) -> torch.Tensor:
        return self.module(batch[0])

    @torch.no_grad()
    def update_target(self, tau: float = 1.0) -> None:
        """Move the target network towards the online one: a copy (``tau=1``) or
        ``target = tau * online + (1 - tau) * target`` (Polyak averaging).

        Example:
            >>> import torch
            >>> task = QLearning(torch.nn.Linear(1, 1, bias=False))
            >>> with torch.no_grad():
            ...     _ = task.module.weight.fill_(1.0); _ = task.target.weight.fill_(0.0)
            >>> task.update_target(tau=0.25); task.target.weight.item()
            0.25
        """
        online = list(self.module.state_dict().values())
        target = list(self.target.state_dict().values())
        floats = [(t, o) for t, o in zip(target, online) if t.is_floating_point() and tau < 1.0]
        for t, o in zip(target, online):
            if not (t.is_floating_point() and tau < 1.0):
                t.copy_(o)  # a hard update, or a counter such as batch norm's
        if floats:
            torch._foreach_lerp_([t for t, _ in floats], [o for _, o in floats], tau)

    def state_dict(self) -> dict[str, Any]:
        return {"target": dict(self.target.state_dict())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "target" in state:
            self.target.load_state_dict(state["target"])
