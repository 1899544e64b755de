"""Q-networks: observations in, one value per action out. Any ``nn.Module`` of that shape works
with :class:`ember.rl.DQN`; these are the defaults."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ember import checks
from ember.errors import ShapeError


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


def check_q_network(
    network: nn.Module, observation_shape: tuple[int, ...], num_actions: int, env_id: str
) -> None:
    """Raise a :class:`ShapeError` unless ``network`` maps a batch of ``env_id``'s observations
    to one value per action (a dry run on zeros, on the network's device).

    Example:
        >>> check_q_network(torch.nn.Linear(4, 3), (4,), 2, "CartPole-v1")
        Traceback (most recent call last):
        ...
        ember.errors.ShapeError: the Q-network must output one value per action, (batch, 2) for CartPole-v1, received (2, 3). Fix: give its last layer 2 outputs.
    """
    parameter = next(network.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    example = torch.zeros(2, *observation_shape, device=device)
    try:
        with torch.no_grad():
            values = network(example)
    except RuntimeError as error:
        raise ShapeError(
            f"the Q-network cannot read {env_id}'s observations of shape {observation_shape} "
            f"({error}). Fix: make its input fit that shape, or leave network=None for an MLP "
            f"sized to the environment."
        ) from error
    if tuple(values.shape) != (2, num_actions):
        raise ShapeError(
            f"the Q-network must output one value per action, (batch, {num_actions}) for "
            f"{env_id}, received {tuple(values.shape)}. Fix: give its last layer {num_actions} "
            f"outputs."
        )
