"""Q-networks: observations in, one value per action out. Any ``nn.Module`` of that shape works
with :class:`ember.rl.DQN`; these are the defaults."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ember import checks


class QNetwork(nn.Module):
    """A multilayer perceptron Q-network, optionally with a dueling head.

    Args:
        observation_size: numbers per observation (observations are flattened).
        num_actions: one output per action.
        hidden: the hidden layers' widths (ReLU after each).
        dueling: split the last layer into a state value ``V(s)`` and advantages ``A(s, a)``,
            combined as ``V + A - mean(A)`` (Wang et al. 2016), so that the value of a state
            is learned from every action tried in it.

    Example:
        >>> net = QNetwork(4, 2, hidden=(64, 64), dueling=True)
        >>> net(torch.zeros(3, 4)).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        observation_size: int,
        num_actions: int,
        hidden: Sequence[int] = (256, 256),
        *,
        dueling: bool = False,
    ) -> None:
        super().__init__()
        checks.positive_int("observation_size", observation_size)
        checks.positive_int("num_actions", num_actions)
        widths = [observation_size, *checks.positive_ints("hidden", tuple(hidden))]
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.dueling = bool(dueling)
        self.head = nn.Linear(widths[-1], num_actions)
        self.value = nn.Linear(widths[-1], 1) if dueling else None

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        features = self.body(observations)  # (B, hidden[-1])
        advantages = self.head(features)  # (B, A)
        if self.value is None:
            return advantages
        return self.value(features) + advantages - advantages.mean(dim=1, keepdim=True)
