"""The DQN agent: it learns CartPole, stores truncation and termination right, resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ember.errors import ConfigError, ShapeError, UnknownNameError
from ember.rl import DQN, DQNConfig, make_vector_env
from ember.runs.checkpoint import decode_state, encode_state

TINY = {
    "epochs": 2,
    "steps_per_epoch": 300,
    "learning_starts": 100,
    "train_frequency": 20,
    "gradient_steps": 4,
    "hidden": (16,),
    "eval_episodes": 3,
    "double": True,
    "n_step": 2,
}


def test_dqn_learns_to_balance_the_pole_in_5000_steps():
    agent = DQN(
        DQNConfig(
            epochs=2,
            steps_per_epoch=2500,
            learning_starts=500,
            train_frequency=64,
            gradient_steps=32,
            double=True,
            n_step=3,
            eval_episodes=20,
        )
    )
    logs = agent.learn(2, verbose=0)
    # a random policy lasts ~22 steps; the greedy policy after 5,000 steps several times that
    assert logs[-1]["eval_return"] > 150
    assert agent.global_step == 5000 and logs[-1]["epsilon"] == pytest.approx(0.04)


def test_truncated_steps_bootstrap_and_keep_their_true_last_observation():
    agent = DQN(DQNConfig(**{**TINY, "n_step": 1, "learning_starts": 10_000, "eval_episodes": 0}))
    agent.envs = make_vector_env("CartPole-v1", env_kwargs={"max_episode_steps": 5})
    agent.observations, _ = agent.envs.reset(seed=0)
    agent.run_epoch(0)
    size = len(agent.buffer)
    observations = agent.buffer.observations[:size]
    next_observations = agent.buffer.next_observations[:size]
    discounts = agent.buffer.discounts[:size]
    lengths = [n for _, _, n in agent.episodes]
    ends = np.cumsum(lengths) - 1  # index of each episode's last transition
    for end, length in zip(ends, lengths):
        # an episode cut by the time limit bootstraps (gamma); one that fell does not (0)
        expected = 0.99 if length == 5 else 0.0
        assert discounts[end].item() == pytest.approx(expected)
        if end + 1 < size:  # the stored last observation is the episode's, not the next start
            assert not torch.equal(next_observations[end], observations[end + 1])
    inside = np.setdiff1d(np.arange(size - 1), ends)
    assert torch.equal(next_observations[inside], observations[inside + 1])
    assert torch.allclose(discounts[inside], torch.full((len(inside),), 0.99))


def test_a_resumed_agent_continues_exactly():
    uninterrupted = DQN(DQNConfig(**TINY))
    expected = uninterrupted.learn(2, verbose=0)
    first = DQN(DQNConfig(**TINY))
    first.learn(1, verbose=0)
    tensors, skeleton = encode_state(first.state_dict())  # through a checkpoint's encoding
    weights = {k: v.clone() for k, v in first.model.state_dict().items()}
    resumed = DQN(DQNConfig(**TINY))
    resumed.model.load_state_dict(weights)
    resumed.load_state_dict(decode_state(skeleton, tensors))
    logs = resumed.learn(2, verbose=0)
    assert logs == expected[1:]
    for key, value in uninterrupted.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value)


@pytest.mark.parametrize("option", [{"prioritized": True}, {"dueling": True}, {"tau": 0.05}])
def test_the_options_train(option):
    agent = DQN(DQNConfig(**{**TINY, "epochs": 1, **option}))
    logs = agent.learn(1, verbose=0)
    assert np.isfinite(logs[0]["loss"]) and logs[0]["env_steps"] == 300


def test_bad_input_is_refused_before_any_step():
    with pytest.raises(UnknownNameError, match="CartPole-v1"):
        DQN(env_id="CartPol-v1")
    with pytest.raises(ConfigError, match="continuous actions"):
        DQN(env_id="MountainCarContinuous-v0")
    with pytest.raises(ShapeError, match=r"cannot read CartPole-v1's observations of shape \(4,\)"):
        DQN(network=torch.nn.Linear(3, 2))
    with pytest.raises(ShapeError, match="one value per action"):
        DQN(network=torch.nn.Linear(4, 3))
    with pytest.raises(ConfigError, match="smaller than a batch"):
        DQN(buffer_size=16, batch_size=64)
    with pytest.raises(ConfigError, match="no setting 'learning_rat'"):
        DQN(learning_rat=0.1)
    with pytest.raises(ConfigError, match="multiple of num_envs"):
        DQN(num_envs=3, steps_per_epoch=1000)


def test_several_environments_step_together():
    agent = DQN(DQNConfig(**{**TINY, "epochs": 1, "num_envs": 4, "steps_per_epoch": 400}))
    logs = agent.learn(1, verbose=0)
    # each environment holds back at most n_step - 1 transitions whose n-step return is unknown
    assert agent.global_step == 400 and 400 - 4 * (TINY["n_step"] - 1) <= len(agent.buffer) <= 400
    assert logs[0]["env_steps"] == 400
