"""Gymnasium environments for ember's agents: checked ids, vectorised, and resumable exactly.

Every agent acts in a :class:`gymnasium.vector.SyncVectorEnv` (one environment by default, as
CleanRL does), in the ``SAME_STEP`` autoreset mode: a finished episode's last observation comes
in ``info["final_obs"]`` and the returned one already starts the next episode.

A checkpoint cannot pickle an environment (ember never unpickles), so each sub-environment is
wrapped in :class:`EpisodeReplay`: it remembers how its current episode began (the reset seed, or
the random generator's state before the reset) and the actions taken since. Restoring resets the
same way and replays those actions, which puts any deterministic environment (every classic
control task, Box2D, toy text) back exactly where it was, time limit counter included.
"""

from __future__ import annotations

import difflib
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from ember import checks
from ember.errors import ConfigError, DataError, UnknownNameError


class EpisodeReplay(gym.Wrapper):
    """Records how the current episode started and its actions, to rebuild it after a restart.

    Example:
        >>> env = EpisodeReplay(gym.make("CartPole-v1"))
        >>> _ = env.reset(seed=3); _ = env.step(1); observation, *_ = env.step(0)
        >>> again = EpisodeReplay(gym.make("CartPole-v1"))
        >>> bool((again.restore(env.snapshot()) == observation).all())
        True
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._start: dict[str, Any] = {}
        self._actions: list[Any] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any:
        if seed is None:
            self._start = {"rng": self.env.unwrapped.np_random.bit_generator.state}
        else:
            self._start = {"seed": int(seed)}
        self._actions = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> Any:
        self._actions.append(np.asarray(action).tolist())  # plain numbers, for JSON
        return self.env.step(action)

    def snapshot(self) -> dict[str, Any]:
        """How this episode began and its actions so far (JSON-friendly numbers and lists)."""
        return {**self._start, "actions": list(self._actions)}

    def restore(self, snapshot: dict[str, Any]) -> np.ndarray:
        """Reset as the snapshot's episode began, replay its actions; return the observation."""
        if "seed" in snapshot:
            observation, _ = self.reset(seed=snapshot["seed"])
        else:
            self.env.unwrapped.np_random.bit_generator.state = snapshot["rng"]
            observation, _ = self.reset()
        for action in snapshot["actions"]:
            observation, *_ = self.step(np.asarray(action) if isinstance(action, list) else action)
        return observation


def check_env_id(env_id: str) -> str:
    """Return ``env_id`` if gymnasium knows it; else an error listing the close ids.

    Example:
        >>> check_env_id("CartPole-v0")
        'CartPole-v0'
        >>> check_env_id("CartPol-v1")
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown environment 'CartPol-v1'. Did you mean 'CartPole-v1' ...
    """
    if not isinstance(env_id, str) or env_id not in gym.registry:
        close = difflib.get_close_matches(str(env_id), list(gym.registry), n=4, cutoff=0.6)
        hint = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise UnknownNameError(
            f"unknown environment {env_id!r}. {hint}Fix: pass a registered gymnasium id, e.g. "
            f"'CartPole-v1', 'Acrobot-v1', 'MountainCar-v0' or 'LunarLander-v3' "
            f"(all ids: gymnasium.pprint_registry())."
        )
    return env_id


def make_single(
    env_id: str, *, render_mode: str | None = None, env_kwargs: dict | None = None
) -> gym.Env:
    """``gymnasium.make`` with ember's errors: unknown ids, missing extras (Box2D, ...)."""
    check_env_id(env_id)
    try:
        return gym.make(env_id, render_mode=render_mode, **(env_kwargs or {}))
    except gym.error.DependencyNotInstalled as error:
        raise ConfigError(
            f"{env_id} needs a package that is not installed ({error}). Fix: install gymnasium's "
            f"extra for it, e.g. pip install 'gymnasium[box2d]' for LunarLander."
        ) from error
    except TypeError as error:  # an unknown keyword for this environment
        raise ConfigError(f"{env_id} rejected env_kwargs={env_kwargs!r}: {error}") from error


def make_vector_env(
    env_id: str,
    num_envs: int = 1,
    *,
    render_mode: str | None = None,
    env_kwargs: dict | None = None,
) -> SyncVectorEnv:
    """``num_envs`` copies of ``env_id`` stepped together, each resumable (:class:`EpisodeReplay`).

    Example:
        >>> envs = make_vector_env("CartPole-v1", 2)
        >>> observations, _ = envs.reset(seed=0)
        >>> observations.shape
        (2, 4)
    """
    checks.positive_int("num_envs", num_envs)
    make_single(env_id, env_kwargs=env_kwargs).close()  # errors before any copy is made

    def make() -> gym.Env:
        return EpisodeReplay(make_single(env_id, render_mode=render_mode, env_kwargs=env_kwargs))

    return SyncVectorEnv([make] * num_envs, autoreset_mode=AutoresetMode.SAME_STEP)


def check_discrete_actions(envs: SyncVectorEnv, env_id: str) -> int:
    """The number of actions of ``envs``; a clear error unless they are discrete.

    Example:
        >>> check_discrete_actions(make_vector_env("Pendulum-v1"), "Pendulum-v1")
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: Pendulum-v1 has continuous actions (Box(-2.0, 2.0, (1,), float32)), and a deep Q-network picks one of a finite set of actions. ...
    """
    space = envs.single_action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ConfigError(
            f"{env_id} has continuous actions ({space}), and a deep Q-network picks one of a "
            f"finite set of actions. Fix: use an environment with discrete actions (e.g. "
            f"'CartPole-v1', 'LunarLander-v3'), a discrete version of this one if it has one "
            f"(e.g. LunarLander-v3 without continuous=True), or an actor-critic method made for "
            f"continuous actions (SAC, TD3; e.g. Stable-Baselines3)."
        )
    return int(space.n)


def observation_shape(envs: SyncVectorEnv, env_id: str) -> tuple[int, ...]:
    """The shape of one observation; a clear error for observations that are not arrays."""
    space = envs.single_observation_space
    if not isinstance(space, gym.spaces.Box):
        raise ConfigError(
            f"{env_id} observes {space}, not an array of numbers, and a Q-network reads arrays. "
            f"Fix: for discrete states use tabular Q-learning (ember.rl.TabularQLearning), or "
            f"wrap the environment in gymnasium.wrappers.FlattenObservation."
        )
    return tuple(int(size) for size in space.shape)


def snapshot(envs: SyncVectorEnv) -> list[dict[str, Any]]:
    """Each sub-environment's :meth:`EpisodeReplay.snapshot`, for a checkpoint."""
    return [env.snapshot() for env in envs.envs]


def restore(envs: SyncVectorEnv, snapshots: list[dict[str, Any]], expected: np.ndarray) -> None:
    """Put every sub-environment back where :func:`snapshot` found it; check the observations."""
    if len(snapshots) != len(envs.envs):
        raise ConfigError(
            f"the checkpoint holds {len(snapshots)} environments and this run makes "
            f"{len(envs.envs)}. Fix: resume with the num_envs the run was started with."
        )
    for index, (env, state) in enumerate(zip(envs.envs, snapshots)):
        observation = env.restore(state)
        if not np.array_equal(np.asarray(observation), np.asarray(expected[index])):
            raise DataError(
                f"replaying environment {index}'s episode did not reproduce its saved "
                f"observation, so this environment is not deterministic and cannot be resumed "
                f"exactly. Fix: start the run again with `ember train`."
            )
