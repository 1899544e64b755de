"""Tabular Q-learning on FrozenLake: the algorithm without a network.

Walk from S to G on a 4x4 frozen lake without falling into a hole (H). The ice is slippery: a
step goes where it was meant only a third of the time. The agent keeps one number per state and
action, Q[s, a], and after each step moves it towards ``r + gamma * max Q[s']``; the run's report
draws the learned table on the map.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import ClassVar

from ember import checks
from ember.recipes.config import RecipeConfig, fraction
from ember.rl.tabular import TabularQLearning
from ember.rl.tabular_agent import TabularAgent


@dataclasses.dataclass
class Config(RecipeConfig):
    """q-learning-frozenlake's settings (epochs of episodes; batch_size is not used)."""

    env_id: str = "FrozenLake-v1"  # a gymnasium environment with discrete states and actions
    slippery: bool = True  # FrozenLake's slippery ice (a move slips sideways 2 times in 3)
    map_name: str = "4x4"  # FrozenLake's map: "4x4" or "8x8"
    epochs: int = 10  # epochs of episodes_per_epoch episodes, a greedy evaluation after each
    episodes_per_epoch: int = 1000  # episodes per epoch
    learning_rate: float = 0.05  # how far each update moves Q[s, a] towards its target
    gamma: float = 0.99  # discount factor
    epsilon_start: float = 1.0  # chance of a random action at first
    epsilon_end: float = 0.05  # ... after exploration_fraction of the episodes
    exploration_fraction: float = 0.8  # share of the episodes over which epsilon falls
    eval_episodes: int = 1000  # greedy episodes after each epoch
    test_episodes: int = 1000  # greedy episodes of the final evaluation
    device: str = "cpu"  # the table lives on the CPU

    field_checks: ClassVar = {
        "episodes_per_epoch": checks.positive_int,
        "learning_rate": partial(checks.number_in, low=0, high=1, closed="(]"),
        "gamma": partial(checks.number_in, low=0, high=1, closed="[]"),
        "exploration_fraction": fraction,
        "epsilon_start": partial(checks.number_in, low=0, high=1, closed="[]"),
        "epsilon_end": partial(checks.number_in, low=0, high=1, closed="[]"),
        "eval_episodes": checks.positive_int,
        "test_episodes": checks.positive_int,
    }


def build(config: Config) -> TabularAgent:
    """The learner on its environment, run as an agent of epochs."""
    env_kwargs = {"is_slippery": config.slippery, "map_name": config.map_name}
    learner = TabularQLearning(
        config.env_id,
        env_kwargs=env_kwargs if config.env_id == "FrozenLake-v1" else {},
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        epsilon_start=config.epsilon_start,
        epsilon_end=config.epsilon_end,
        exploration_fraction=config.exploration_fraction,
        total_episodes=config.epochs * config.episodes_per_epoch,
        seed=config.seed,
    )
    return TabularAgent(learner, config.episodes_per_epoch, eval_episodes=config.eval_episodes)
