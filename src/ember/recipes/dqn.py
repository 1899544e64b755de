"""Deep Q-learning on a gymnasium environment: the seeds' CartPole project.

A cart carries a pole on a hinge; push it left or right (two actions) to keep the pole up. Each
step up earns 1, and an episode ends when the pole falls past 12 degrees or the cart leaves the
track (terminated), or after 500 steps (truncated: the pole was still up, so the value of that
state is bootstrapped, not zero). The agent (:class:`ember.rl.DQN`) explores epsilon-greedily,
remembers transitions in a replay buffer, and learns Q(s, a) by the engine's step of the
:class:`ember.tasks.QLearning` task on replayed batches.

Every setting is a :class:`ember.rl.DQNConfig` field; ``dqn-acrobot``, ``dqn-mountaincar`` and
``dqn-lunarlander`` are this module with other defaults (Stable-Baselines3's zoo settings).
"""

from __future__ import annotations

import dataclasses

from ember.rl import DQN, DQNConfig
from ember.rl.dqn_config import check_dqn_config


@dataclasses.dataclass
class Config(DQNConfig):
    """dqn-cartpole: Double DQN with 3-step returns on CartPole-v1 (50,000 steps).

    Against Stable-Baselines3's zoo settings (DQNConfig's defaults): Double DQN, 3-step returns,
    and the same ratio of updates to steps in smaller, more frequent rounds (32 updates every 64
    steps, from step 500). benchmarks/dqn.py measures what that buys.
    """

    double: bool = True  # Double DQN: the online network picks the next action
    n_step: int = 3  # rewards summed over 3 steps before bootstrapping
    learning_starts: int = 500  # environment steps of pure exploration before any update
    train_frequency: int = 64  # environment steps between rounds of updates
    gradient_steps: int = 32  # updates per round


def check_config(config: Config) -> None:
    """Settings that must fit together (a buffer at least a batch, ...)."""
    check_dqn_config(config)


def build(config: Config) -> DQN:
    """The agent: its environments, Q-network, replay buffer and engine."""
    return DQN(config)
