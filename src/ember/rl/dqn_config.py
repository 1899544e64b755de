"""The settings of a deep Q-network run, one comment each (``ember list dqn-cartpole`` shows them)."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, ClassVar

from ember import checks
from ember.errors import ConfigError


@dataclasses.dataclass
class DQNConfig:
    """Hyperparameters of :class:`ember.rl.DQN` (defaults: Stable-Baselines3's zoo, CartPole-v1).

    An *epoch* here is ``steps_per_epoch`` environment steps: the agent logs its numbers, writes
    a checkpoint and measures its greedy return once per epoch.

    Example:
        >>> config = DQNConfig(epochs=4, steps_per_epoch=500)
        >>> config.total_steps
        2000
    """

    env_id: str = "CartPole-v1"  # a gymnasium environment with discrete actions
    seed: int = 0  # seeds the environments, exploration, replay sampling and the network
    device: str = "cpu"  # "cpu", "cuda", "auto" (a small MLP acts fastest on the CPU)
    epochs: int = 20  # logging periods: metrics, a checkpoint and a greedy evaluation after each
    steps_per_epoch: int = 2500  # environment steps per epoch (all environments together)
    num_envs: int = 1  # environments stepped together (gymnasium's SyncVectorEnv)
    hidden: tuple[int, ...] = (256, 256)  # the Q-network's hidden layer widths
    dueling: bool = False  # a dueling head: V(s) + A(s, a) - mean A
    double: bool = False  # Double DQN: the online network picks the next action
    learning_rate: float = 2.3e-3  # Adam's step size
    batch_size: int = 64  # replayed transitions per update
    buffer_size: int = 100_000  # transitions the replay buffer keeps (the oldest go first)
    prioritized: bool = False  # prioritized replay (proportional, alpha 0.6, beta 0.4 -> 1)
    n_step: int = 1  # n-step returns: rewards summed over n steps before bootstrapping
    gamma: float = 0.99  # discount factor
    learning_starts: int = 1000  # environment steps of pure exploration before any update
    train_frequency: int = 256  # environment steps between rounds of updates
    gradient_steps: int = 128  # updates per round
    target_update_interval: int = 10  # environment steps between target network updates
    tau: float = 1.0  # target update: 1 copies the online network, < 1 is Polyak averaging
    exploration_fraction: float = 0.16  # share of all steps over which epsilon falls
    epsilon_start: float = 1.0  # epsilon-greedy: chance of a random action at first
    epsilon_end: float = 0.04  # ... and after exploration_fraction of the steps
    max_grad_norm: float = 10.0  # gradients are clipped to this global norm (0: no clipping)
    loss: str = "huber"  # TD loss: "huber" (smooth L1) or "mse"
    eval_episodes: int = 10  # greedy episodes after each epoch (0: none)
    test_episodes: int = 100  # greedy episodes of the final evaluation

    field_checks: ClassVar[dict[str, Any]] = {
        "seed": checks.non_negative_int,
        "epochs": checks.positive_int,
        "steps_per_epoch": checks.positive_int,
        "num_envs": checks.positive_int,
        "learning_rate": checks.positive_number,
        "batch_size": checks.positive_int,
        "buffer_size": checks.positive_int,
        "n_step": checks.positive_int,
        "gamma": partial(checks.number_in, low=0, high=1, closed="[]"),
        "learning_starts": checks.non_negative_int,
        "train_frequency": checks.positive_int,
        "gradient_steps": checks.non_negative_int,
        "target_update_interval": checks.positive_int,
        "tau": partial(checks.number_in, low=0, high=1, closed="(]"),
        "exploration_fraction": partial(checks.number_in, low=0, high=1, closed="[]"),
        "epsilon_start": partial(checks.number_in, low=0, high=1, closed="[]"),
        "epsilon_end": partial(checks.number_in, low=0, high=1, closed="[]"),
        "max_grad_norm": checks.non_negative_number,
        "eval_episodes": checks.non_negative_int,
        "test_episodes": checks.non_negative_int,
    }

    @property
    def total_steps(self) -> int:
        """Environment steps over the whole run."""
        return self.epochs * self.steps_per_epoch


def check_dqn_config(config: DQNConfig) -> None:
    """Each field's range, then the settings that must fit together; a ConfigError says which.

    Example:
        >>> check_dqn_config(DQNConfig(buffer_size=32, batch_size=64))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: the replay buffer (buffer_size=32) is smaller than a batch (batch_size=64). Fix: --set buffer_size=100000 (or a batch_size of at most 32).
    """
    for name, check in DQNConfig.field_checks.items():
        check(name, getattr(config, name), fix=f"--set {name}={getattr(DQNConfig(), name)}")
    checks.one_of("loss", config.loss, ("huber", "mse"))
    checks.positive_ints("hidden", config.hidden)
    if config.buffer_size < config.batch_size:
        raise ConfigError(
            f"the replay buffer (buffer_size={config.buffer_size}) is smaller than a batch "
            f"(batch_size={config.batch_size}). Fix: --set buffer_size={DQNConfig.buffer_size} "
            f"(or a batch_size of at most {config.buffer_size})."
        )
    if config.steps_per_epoch % config.num_envs:
        raise ConfigError(
            f"steps_per_epoch={config.steps_per_epoch} is not a multiple of num_envs="
            f"{config.num_envs} (each step moves every environment once). Fix: --set "
            f"steps_per_epoch={config.steps_per_epoch // config.num_envs * config.num_envs or config.num_envs}."
        )
