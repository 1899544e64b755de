"""Environments: checked ids and action spaces, and an episode rebuilt exactly after a restart."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from ember.errors import ConfigError, DataError, UnknownNameError
from ember.rl.environments import (
    EpisodeReplay,
    check_discrete_actions,
    make_single,
    make_vector_env,
    observation_shape,
    restore,
    snapshot,
)


def test_an_unknown_environment_lists_the_close_ids():
    with pytest.raises(UnknownNameError, match="Did you mean 'CartPole-v1'"):
        make_vector_env("Cartpole-v1")


def test_continuous_actions_are_refused_with_what_to_use_instead():
    envs = make_vector_env("Pendulum-v1")
    with pytest.raises(ConfigError, match="continuous actions.*finite set.*SAC"):
        check_discrete_actions(envs, "Pendulum-v1")


def test_discrete_observations_point_to_tabular_q_learning():
    envs = make_vector_env("FrozenLake-v1")
    with pytest.raises(ConfigError, match="TabularQLearning"):
        observation_shape(envs, "FrozenLake-v1")


def test_an_episode_is_rebuilt_with_its_time_limit_counter():
    rng = np.random.default_rng(0)
    env = EpisodeReplay(gym.make("CartPole-v1", max_episode_steps=12))
    env.reset(seed=5)
    env.reset()  # the second episode starts from the generator, not from a seed
    for _ in range(7):
        observation, _, terminated, _, _ = env.step(int(rng.integers(2)))
        assert not terminated
    copy = EpisodeReplay(gym.make("CartPole-v1", max_episode_steps=12))
    assert np.array_equal(copy.restore(env.snapshot()), observation)
    steps = []
    for twin in (env, copy):  # both are truncated after the same 5 more steps
        for count in range(1, 20):
            *_, terminated, truncated, _ = twin.step(0 if count % 2 else 1)
            if terminated or truncated:
                steps.append((count, terminated, truncated))
                break
    assert steps[0] == steps[1]


def test_vector_environments_restore_and_check_the_observations():
    envs = make_vector_env("CartPole-v1", 2)
    observations, _ = envs.reset(seed=0)
    for _ in range(30):  # long enough for some sub-episode to end and restart
        observations, *_ = envs.step(np.array([0, 1]))
    twin = make_vector_env("CartPole-v1", 2)
    restore(twin, snapshot(envs), observations)
    with pytest.raises(DataError, match="not deterministic"):
        restore(twin, snapshot(envs), observations + 1)
    with pytest.raises(ConfigError, match="num_envs"):
        restore(make_vector_env("CartPole-v1", 3), snapshot(envs), observations)


def test_box2d_lunar_lander_makes_when_its_extra_is_installed():
    pytest.importorskip("Box2D")
    env = make_single("LunarLander-v3")
    observation, _ = env.reset(seed=0)
    assert observation.shape == (8,) and env.action_space.n == 4
