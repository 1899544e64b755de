"""Tabular Q-learning: the algorithm without a network.

One number per (state, action) pair, ``Q[s, a]``, the return expected from taking ``a`` in ``s``
and acting greedily afterwards. After every step the entry just used moves towards its target,
``r + gamma * max_a' Q[s', a']`` (Sutton & Barto, *Reinforcement Learning*, 2nd ed., section 6.5).
Any gymnasium environment with discrete states and actions works; the default is the slippery
4x4 ``FrozenLake-v1``, where the optimal policy reaches the goal about 74-82% of the time.

The code reads top to bottom: the table (:class:`QTable`), one update
(:func:`q_learning_update`), then the loop (:class:`TabularQLearning`).

Example:
    >>> agent = TabularQLearning("FrozenLake-v1", total_episodes=200, seed=0)
    >>> returns = agent.learn(200)
    >>> len(returns), agent.table.values.shape
    (200, torch.Size([16, 4]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.rl.environments import make_single

# gymnasium's own defaults, spelled out so that a reader sees which lake is learned.
DEFAULT_ENV_KWARGS = {"FrozenLake-v1": {"map_name": "4x4", "is_slippery": True}}


# --- The table ----------------------------------------------------------------------------------


class QTable(nn.Module):
    """A Q-table as a module: ``values[state, action]``, all zeros at the start.

    The values are a buffer, not a parameter (no gradient ever reaches them), so a run saves and
    loads them with ``state_dict`` like any network's weights.

    Example:
        >>> table = QTable(num_states=3, num_actions=2)
        >>> table.values[1] = torch.tensor([0.5, 0.25])
        >>> table(torch.tensor([1, 0]))
        tensor([[0.5000, 0.2500],
                [0.0000, 0.0000]])
    """

    def __init__(self, num_states: int, num_actions: int) -> None:
        super().__init__()
        checks.positive_int("num_states", num_states)
        checks.positive_int("num_actions", num_actions)
        self.register_buffer("values", torch.zeros(num_states, num_actions))  # (S, A)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """The values of ``states`` (integers, any shape ``B``): shape ``(*B, num_actions)``."""
        return self.values[states]


# --- One update ---------------------------------------------------------------------------------


def q_learning_update(
    table: torch.Tensor,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminated: bool,
    *,
    learning_rate: float,
    gamma: float,
) -> float:
    """One Q-learning step on ``table`` (a CPU tensor, shape ``(S, A)``), in place.

    ``Q[s, a] += learning_rate * (r + gamma * max_a' Q[s', a'] * (1 - terminated) - Q[s, a])``.
    Returns the TD error, the term in brackets. Only termination (a hole, the goal) stops the
    bootstrap: after a truncation (the time limit) the episode was cut, not ended, and ``s'``
    still has a future.

    Example:
        >>> table = torch.tensor([[0.0, 0.0], [2.0, 4.0]])
        >>> q_learning_update(table, 0, 1, 1.0, 1, False, learning_rate=0.5, gamma=0.5)
        3.0
        >>> table[0]
        tensor([0.0000, 1.5000])
    """
    if table.device.type != "cpu":
        raise ConfigError(
            f"expected the Q-table on the CPU, received a tensor on {table.device}. Fix: keep "
            f"it on the CPU (table.cpu()): one scalar update per step is slower on an accelerator."
        )
    # A numpy view of the same memory: indexing it costs ~2 us a step, a tensor's ~14 us.
    values = table.numpy()
    future = 0.0 if terminated else gamma * float(values[next_state].max())
    td_error = reward + future - float(values[state, action])
    values[state, action] += learning_rate * td_error
    return td_error


# --- The loop -----------------------------------------------------------------------------------


class TabularQLearning:
    """ε-greedy tabular Q-learning on a gymnasium environment with discrete states and actions.

    Args:
        env_id: a registered gymnasium id whose observation and action spaces are ``Discrete``.
        env_kwargs: passed to ``gymnasium.make``; default ``DEFAULT_ENV_KWARGS`` for the id
            (the slippery 4x4 map for ``FrozenLake-v1``), else none.
        learning_rate: how far each update moves ``Q[s, a]`` towards its target, in (0, 1].
        gamma: the discount; 0.99 values a reward 100 steps away at 0.37 of one now.
        epsilon_start: the probability of a random action in the first episode.
        epsilon_end: the probability of a random action once exploration has decayed.
        exploration_fraction: the fraction of ``total_episodes`` over which ε falls linearly
            from ``epsilon_start`` to ``epsilon_end``; it stays at ``epsilon_end`` afterwards.
        total_episodes: the episodes the ε schedule is planned for (``learn`` may run more).
        seed: resets the environment in the first episode (it then draws from its own
            generator), and seeds the agent's generator, which picks exploratory actions.

    Example:
        >>> agent = TabularQLearning(env_kwargs={"is_slippery": False}, total_episodes=300)
        >>> _ = agent.learn(300)
        >>> agent.evaluate(episodes=10)["success_rate"]
        1.0
    """

    def __init__(
        self,
        env_id: str = "FrozenLake-v1",
        *,
        env_kwargs: dict | None = None,
        learning_rate: float = 0.05,
        gamma: float = 0.99,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        exploration_fraction: float = 0.8,
        total_episodes: int = 10_000,
        seed: int = 0,
    ) -> None:
        self.env_id = env_id
        self.env_kwargs = dict(
            DEFAULT_ENV_KWARGS.get(env_id, {}) if env_kwargs is None else env_kwargs
        )
        self.learning_rate = checks.number_in("learning_rate", learning_rate, 0, 1, closed="(]")
        self.gamma = checks.number_in("gamma", gamma, 0, 1, closed="[]")
        self.epsilon_start = checks.number_in("epsilon_start", epsilon_start, 0, 1, closed="[]")
        self.epsilon_end = checks.number_in("epsilon_end", epsilon_end, 0, 1, closed="[]")
        self.exploration_fraction = checks.number_in(
            "exploration_fraction", exploration_fraction, 0, 1, closed="[]"
        )
        self.total_episodes = checks.positive_int("total_episodes", total_episodes)
        self.seed = checks.non_negative_int("seed", seed)

        self.env = _make_discrete_env(env_id, self.env_kwargs)
        self.table = QTable(int(self.env.observation_space.n), int(self.env.action_space.n))
        self.episodes_done = 0
        self._rng = np.random.Generator(np.random.PCG64(self.seed))

    def epsilon(self) -> float:
        """The probability of a random action in the next episode (linear decay, then flat).

        Example:
            >>> agent = TabularQLearning(total_episodes=100, exploration_fraction=0.5)
            >>> agent.episodes_done = 25
            >>> round(agent.epsilon(), 3)
            0.525
        """
        decay_episodes = self.exploration_fraction * self.total_episodes
        progress = 1.0 if decay_episodes == 0 else min(1.0, self.episodes_done / decay_episodes)
        return self.epsilon_start + progress * (self.epsilon_end - self.epsilon_start)

    def learn(
        self, episodes: int, *, on_episode_end: Callable[[int, float], Any] | None = None
    ) -> list[float]:
        """Run ``episodes`` episodes of Q-learning; return each episode's return.

        Calling it again continues: the episode count, ε, and both random generators carry on.
        ``on_episode_end(episode, episode_return)`` is called after each episode, ``episode``
        counting from 0 over every call. A greedy choice between equal values is drawn at
        random from the agent's generator (:meth:`evaluate` takes the lowest action instead).
        """
        checks.positive_int("episodes", episodes)
        values = self.table.values
        returns = []
        for _ in range(episodes):
            epsilon = self.epsilon()
            # The seed starts the environment's generator once; later resets draw from it.
            state, _ = self.env.reset(seed=self.seed if self.episodes_done == 0 else None)
            episode_return, done = 0.0, False
            while not done:
                # Choose A from S, ε-greedy.
                if self._rng.random() < epsilon:
                    action = int(self._rng.integers(values.shape[1]))
                else:
                    action = _greedy_action(values, state, ties=self._rng)
                # Take A, observe R, S'.
                next_state, reward, terminated, truncated, _ = self.env.step(action)
                # Q(S, A) <- Q(S, A) + α [R + γ max_a Q(S', a) - Q(S, A)].
                q_learning_update(
                    values,
                    state,
                    action,
                    float(reward),
                    next_state,
                    terminated,
                    learning_rate=self.learning_rate,
                    gamma=self.gamma,
                )
                state, episode_return = next_state, episode_return + float(reward)
                done = terminated or truncated
            returns.append(episode_return)
            if on_episode_end is not None:
                on_episode_end(self.episodes_done, episode_return)
            self.episodes_done += 1
        return returns

    def evaluate(self, episodes: int = 1000, *, seed: int = 10_000) -> dict[str, float]:
        """The greedy policy's returns over ``episodes`` episodes of a fresh environment.

        The environment is reset with ``seed`` once, so two calls give the same numbers and
        training's environment is left untouched. A tie in ``Q[s]`` goes to the lowest-numbered
        action. ``success_rate`` is the fraction of episodes with a positive return (on
        FrozenLake, those that reach the goal).
        """
        checks.positive_int("episodes", episodes)
        checks.non_negative_int("seed", seed)
        env = _make_discrete_env(self.env_id, self.env_kwargs)
        values = self.table.values
        returns = np.zeros(episodes)
        for episode in range(episodes):
            state, _ = env.reset(seed=seed if episode == 0 else None)
            done = False
            while not done:
                state, reward, terminated, truncated, _ = env.step(_greedy_action(values, state))
                returns[episode] += float(reward)
                done = terminated or truncated
        env.close()
        return {
            "mean_return": float(returns.mean()),
            "std_return": float(returns.std()),
            "success_rate": float((returns > 0).mean()),
        }

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs, as tensors, numbers, strings and dicts (safetensors + JSON).

        The table, the episode count, and the states of the agent's and the environment's random
        generators (Python integers, some above 2**64). ``learn`` always ends between episodes,
        so nothing of an episode in progress needs saving.

        Example:
            >>> agent = TabularQLearning(total_episodes=100)
            >>> _ = agent.learn(50)
            >>> resumed = TabularQLearning(total_episodes=100)
            >>> resumed.load_state_dict(agent.state_dict())
            >>> resumed.learn(50) == agent.learn(50)
            True
        """
        return {
            "table": {"values": self.table.values.clone()},
            "episodes_done": self.episodes_done,
            "rng": self._rng.bit_generator.state,
            "env_rng": self.env.unwrapped.np_random.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (into an agent made with the same settings)."""
        missing = {"table", "episodes_done", "rng", "env_rng"} - set(state)
        if missing:
            raise ConfigError(
                f"the state is missing {sorted(missing)}. Fix: pass what "
                f"TabularQLearning.state_dict() returned."
            )
        values = state["table"]["values"]
        if tuple(values.shape) != tuple(self.table.values.shape):
            raise ConfigError(
                f"the saved Q-table has shape {tuple(values.shape)} and this agent's "
                f"{tuple(self.table.values.shape)}. Fix: make the agent with the env_id and "
                f"env_kwargs the state was saved with."
            )
        self.table.values.copy_(values)
        self.episodes_done = checks.non_negative_int("episodes_done", state["episodes_done"])
        self._rng.bit_generator.state = state["rng"]
        self.env.unwrapped.np_random.bit_generator.state = state["env_rng"]


def _greedy_action(
    values: torch.Tensor, state: int, ties: np.random.Generator | None = None
) -> int:
    row = values.numpy()[state]
    if ties is None:
        return int(row.argmax())  # the first of equal values: ties go to the lowest action
    # While learning, a fixed tie-break would send an untrained agent the same way each time (on
    # FrozenLake, left into the wall) and starve it of exploration once ε is small.
    best = np.flatnonzero(row == row.max())
    return int(best[0]) if len(best) == 1 else int(ties.choice(best))


def _make_discrete_env(env_id: str, env_kwargs: dict) -> gym.Env:
    env = make_single(env_id, env_kwargs=env_kwargs)
    spaces = (env.observation_space, env.action_space)
    if not all(isinstance(space, gym.spaces.Discrete) and space.start == 0 for space in spaces):
        env.close()
        raise ConfigError(
            f"{env_id} observes {spaces[0]} and acts in {spaces[1]}, and tabular Q-learning "
            f"needs discrete states and actions (gymnasium.spaces.Discrete, numbered from 0): "
            f"one table row per state, one column per action. Fix: use DQN (ember.rl.DQN) for "
            f"continuous observations, or an environment such as 'FrozenLake-v1', "
            f"'CliffWalking-v1' or 'Taxi-v4'."
        )
    return env
