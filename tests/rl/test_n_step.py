"""n-step transitions against returns computed by hand (gamma = 0.9)."""

import json

import numpy as np
import pytest

from ember.errors import ConfigError, DataError
from ember.rl.n_step import NStepReturns
from ember.runs.checkpoint import decode_state, encode_state

GAMMA = 0.9


def _episode(n_step, rewards, *, end="terminated"):
    """Push one episode in one environment (observation t = [t], action t); the pushes' results."""
    results = []
    for t, reward in enumerate(rewards):
        last = t == len(rewards) - 1
        results.append(
            n_step.push(
                np.array([[t]]),
                np.array([t]),
                np.array([reward]),
                np.array([[t + 1]]),
                np.array([last and end == "terminated"]),
                np.array([last and end == "truncated"]),
            )
        )
    return results


def _assert_transitions(result, observations, returns, next_observations, discounts):
    got_observations, actions, got_returns, got_next, got_discounts = result
    np.testing.assert_array_equal(got_observations.ravel(), observations)
    np.testing.assert_array_equal(actions, observations)  # action t was taken at observation t
    np.testing.assert_allclose(got_returns, returns, rtol=1e-6)
    np.testing.assert_array_equal(got_next.ravel(), next_observations)
    np.testing.assert_allclose(got_discounts, discounts, rtol=1e-6)
    assert got_returns.dtype == got_discounts.dtype == np.float32


@pytest.mark.parametrize("end", ["terminated", "truncated"])
def test_one_step_returns_are_the_plain_transitions(end):
    results = _episode(NStepReturns(1, GAMMA, 1), [1, 2, 3, 4, 5], end=end)
    for t, result in enumerate(results):
        final = t == 4 and end == "terminated"
        _assert_transitions(result, [t], [t + 1], [t + 1], [0.0 if final else GAMMA])


def test_three_step_returns_of_a_terminated_episode():
    results = _episode(NStepReturns(3, GAMMA, 1), [1, 2, 3, 4, 5], end="terminated")
    assert results[0] is None and results[1] is None
    _assert_transitions(results[2], [0], [1 + 0.9 * 2 + 0.81 * 3], [3], [0.729])  # 5.23
    _assert_transitions(results[3], [1], [2 + 0.9 * 3 + 0.81 * 4], [4], [0.729])  # 7.94
    # the episode ends: the last three steps are emitted with what is left of it, not bootstrapped
    _assert_transitions(results[4], [2, 3, 4], [10.65, 8.5, 5.0], [5, 5, 5], [0.0, 0.0, 0.0])


def test_three_step_returns_of_a_truncated_episode_bootstrap_from_the_final_observation():
    results = _episode(NStepReturns(3, GAMMA, 1), [1, 2, 3, 4, 5], end="truncated")
    _assert_transitions(results[2], [0], [5.23], [3], [0.729])
    _assert_transitions(results[3], [1], [7.94], [4], [0.729])
    _assert_transitions(results[4], [2, 3, 4], [10.65, 8.5, 5.0], [5, 5, 5], [0.729, 0.81, 0.9])


def _parallel_step(n_step, t, rewards, terminated=(False, False), truncated=(False, False)):
    """Step t of two environments: env e sees observation [100 e + t] and takes action 100 e + t."""
    observations = np.array([[t], [100 + t]])
    return n_step.push(
        observations,
        observations.ravel(),
        np.array(rewards, dtype=np.float64),
        observations + 1,
        np.array(terminated),
        np.array(truncated),
    )


def _two_environments_from(n_step, first_step):
    # env 0: an episode of 2 steps (rewards 1, 2) terminates at step 1, the next one starts;
    # env 1: an episode of 4 steps (rewards 1, 2, 3, 4) is truncated at step 3.
    steps = [
        dict(rewards=(1, 1)),
        dict(rewards=(2, 2), terminated=(True, False)),
        dict(rewards=(10, 3)),
        dict(rewards=(20, 4), truncated=(False, True)),
    ]
    return [_parallel_step(n_step, t, **steps[t]) for t in range(first_step, 4)]


def test_two_environments_ending_at_different_steps():
    step_0, step_1, step_2, step_3 = _two_environments_from(NStepReturns(3, GAMMA, 2), 0)
    assert step_0 is None
    _assert_transitions(step_1, [0, 1], [1 + 0.9 * 2, 2], [2, 2], [0.0, 0.0])
    _assert_transitions(step_2, [100], [5.23], [103], [0.729])
    _assert_transitions(
        step_3, [101, 102, 103], [7.94, 3 + 0.9 * 4, 4], [104, 104, 104], [0.729, 0.81, 0.9]
    )


def test_state_dict_round_trip_through_a_checkpoint_continues_exactly():
    original = NStepReturns(3, GAMMA, 2)
    _parallel_step(original, 0, (1, 1))
    _parallel_step(original, 1, (2, 2), terminated=(True, False))
    tensors, skeleton = encode_state(original.state_dict())
    resumed = NStepReturns(3, GAMMA, 2)
    resumed.load_state_dict(decode_state(json.loads(json.dumps(skeleton)), tensors))
    for t, step in ((2, dict(rewards=(10, 3))), (3, dict(rewards=(20, 4), truncated=(0, 1)))):
        expected, received = _parallel_step(original, t, **step), _parallel_step(resumed, t, **step)
        for a, b in zip(expected, received):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype


def test_bad_settings_and_input_raise():
    with pytest.raises(ConfigError, match="positive integer, received n=0"):
        NStepReturns(0, GAMMA, 1)
    with pytest.raises(ConfigError, match=r"number in \[0, 1\], received gamma=1.5"):
        NStepReturns(3, 1.5, 1)
    with pytest.raises(ConfigError, match="positive integer, received num_envs=0"):
        NStepReturns(3, GAMMA, 0)
    with pytest.raises(DataError, match=r"rewards with a leading dimension of num_envs=2"):
        NStepReturns(3, GAMMA, 2).push(
            np.zeros((2, 1)), np.zeros(2), np.zeros(3), np.zeros((2, 1)), [0, 0], [0, 0]
        )
    with pytest.raises(ConfigError, match="n=3, this one has n=2"):
        NStepReturns(2, GAMMA, 1).load_state_dict(NStepReturns(3, GAMMA, 1).state_dict())
