"""Replay buffers: uniform and proportional sampling, the ring, exact resume and bad input."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ember.errors import ConfigError, DataError
from ember.rl.replay import PrioritizedReplayBuffer, ReplayBuffer
from ember.runs.checkpoint import decode_state, encode_state

# chi2.ppf(0.999, df) from scipy.stats, for when scipy is not installed
CRITICAL_0999 = {3: 16.266, 49: 85.351}


def _chi_square_p_above_0001(observed, expected) -> bool:
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    try:
        from scipy.stats import chisquare
    except ImportError:
        statistic = ((observed - expected) ** 2 / expected).sum()
        return statistic < CRITICAL_0999[len(observed) - 1]
    return chisquare(observed, expected).pvalue > 0.001


def _fill(buffer, count, start=0):
    """Transition t: observation (t, t), action t, reward t / 10, next (t + 1, t + 1), discount 0.9."""
    steps = np.arange(start, start + count)
    observations = np.stack([steps, steps], axis=1).astype(np.float32)
    buffer.add(observations, steps, steps / 10, observations + 1, np.full(count, 0.9))


def test_sampling_is_uniform_over_the_stored_transitions():
    buffer = ReplayBuffer(64, (2,), seed=1)
    _fill(buffer, 50)
    actions = torch.cat([buffer.sample(1000)[1] for _ in range(50)])
    counts = np.bincount(actions.numpy(), minlength=50)
    assert len(counts) == 50 and counts.sum() == 50_000
    assert _chi_square_p_above_0001(counts, np.full(50, 1000))


def test_sample_returns_matching_fields_and_dtypes():
    buffer = ReplayBuffer(10, (2,))
    _fill(buffer, 4)
    observations, actions, rewards, next_observations, discounts = buffer.sample(16)
    assert (actions.dtype, rewards.dtype, discounts.dtype) == (torch.int64,) + 2 * (torch.float32,)
    assert observations.shape == next_observations.shape == (16, 2)
    torch.testing.assert_close(observations[:, 0], actions.float())
    torch.testing.assert_close(rewards, actions.float() / 10)
    torch.testing.assert_close(next_observations, observations + 1)
    torch.testing.assert_close(discounts, torch.full((16,), 0.9))


def test_the_ring_overwrites_the_oldest_transitions():
    buffer = ReplayBuffer(5, (2,))
    for step in range(8):
        _fill(buffer, 1, start=step)
    assert len(buffer) == 5
    assert buffer.actions.tolist() == [5, 6, 7, 3, 4]
    assert set(buffer.sample(200)[1].tolist()) == {3, 4, 5, 6, 7}


def test_a_batch_larger_than_the_capacity_keeps_its_last_transitions():
    one_at_a_time, at_once = ReplayBuffer(5, (2,)), ReplayBuffer(5, (2,))
    _fill(one_at_a_time, 2)
    _fill(at_once, 2)
    for step in range(2, 14):
        _fill(one_at_a_time, 1, start=step)
    _fill(at_once, 12, start=2)
    assert len(at_once) == 5
    assert sorted(at_once.actions.tolist()) == [9, 10, 11, 12, 13]
    for field in ("observations", "actions", "rewards", "next_observations", "discounts"):
        assert torch.equal(getattr(at_once, field), getattr(one_at_a_time, field))
    _fill(one_at_a_time, 1, start=14)  # and the next one goes to the same slot
    _fill(at_once, 1, start=14)
    assert torch.equal(at_once.actions, one_at_a_time.actions)


def test_the_same_seed_gives_the_same_samples_and_leaves_the_global_rng_alone():
    first, second = ReplayBuffer(20, (2,), seed=3), ReplayBuffer(20, (2,), seed=3)
    other = ReplayBuffer(20, (2,), seed=4)
    for buffer in (first, second, other):
        _fill(buffer, 20)
    global_state = torch.get_rng_state()
    assert torch.equal(first.sample(64)[1], second.sample(64)[1])
    assert torch.equal(torch.get_rng_state(), global_state)
    assert not torch.equal(first.sample(64)[1], other.sample(64)[1])


def _round_trip_through_a_checkpoint(state, tmp_path):
    tensors, skeleton = encode_state(state)
    save_file(tensors, tmp_path / "state.safetensors")
    return decode_state(json.loads(json.dumps(skeleton)), load_file(tmp_path / "state.safetensors"))


@pytest.mark.parametrize("through_checkpoint", [False, True])
@pytest.mark.parametrize("kind", [ReplayBuffer, PrioritizedReplayBuffer])
def test_a_restored_buffer_continues_exactly(kind, through_checkpoint, tmp_path):
    uninterrupted = kind(20, (2,), seed=5)
    _fill(uninterrupted, 27)  # wrapped around: position 7
    uninterrupted.sample(8)
    if kind is PrioritizedReplayBuffer:
        uninterrupted.update_priorities(uninterrupted.last_indices, torch.arange(8.0))
    state = uninterrupted.state_dict()
    if through_checkpoint:
        state = _round_trip_through_a_checkpoint(state, tmp_path)
    resumed = kind(20, (2,), seed=99)
    resumed.load_state_dict(state)
    for step in range(3):
        _fill(uninterrupted, 3, start=100 + 3 * step)
        _fill(resumed, 3, start=100 + 3 * step)
        for expected, received in zip(uninterrupted.sample(16), resumed.sample(16)):
            assert torch.equal(expected, received)


def test_bad_input_raises_with_the_fix():
    with pytest.raises(ConfigError, match="positive integer, received capacity=0"):
        ReplayBuffer(0, (2,))
    buffer = ReplayBuffer(10, (4,))
    with pytest.raises(DataError, match="cannot sample from an empty replay buffer"):
        buffer.sample(1)
    with pytest.raises(DataError, match=r"observations of shape \(3, 4\).*received \(3, 5\)"):
        buffer.add(np.zeros((3, 5)), [0, 1, 2], np.zeros(3), np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(DataError, match=r"rewards of shape \(3,\).*received \(2,\)"):
        buffer.add(np.zeros((3, 4)), [0, 1, 2], np.zeros(2), np.zeros((3, 4)), np.zeros(3))
    with pytest.raises(DataError, match="integer .discrete. actions"):
        buffer.add(np.zeros((1, 4)), [0.5], [0.0], np.zeros((1, 4)), [1.0])
    with pytest.raises(ConfigError, match=r"capacity=10, this one has capacity=11. Fix"):
        ReplayBuffer(11, (4,)).load_state_dict(buffer.state_dict())
    with pytest.raises(ConfigError, match=r"observation_shape=\(4,\), this one has"):
        ReplayBuffer(10, (5,)).load_state_dict(buffer.state_dict())


def _frequencies(buffer, draws=40, batch_size=1000):
    counts = np.zeros(len(buffer))
    for _ in range(draws):
        buffer.sample(batch_size)
        counts += np.bincount(buffer.last_indices.numpy(), minlength=len(buffer))
    return counts


def test_prioritized_sampling_is_proportional_to_the_priorities():
    buffer = PrioritizedReplayBuffer(8, (2,), alpha=1.0, seed=2)
    _fill(buffer, 4)
    buffer.update_priorities(torch.arange(4), torch.tensor([1.0, -2.0, 3.0, 4.0]))
    counts = _frequencies(buffer, draws=40, batch_size=997)  # segments don't align with leaves
    expected = np.array([1, 2, 3, 4]) / 10 * counts.sum()
    assert _chi_square_p_above_0001(counts, expected)
    np.testing.assert_allclose(counts / counts.sum(), [0.1, 0.2, 0.3, 0.4], atol=0.005)


def test_sampled_transitions_match_their_indices():
    buffer = PrioritizedReplayBuffer(8, (2,), seed=0)
    _fill(buffer, 6)
    _, actions, *_ = buffer.sample(32)
    assert torch.equal(actions, buffer.last_indices)  # transition t sits in slot t here


def test_importance_weights_match_a_hand_computation():
    buffer = PrioritizedReplayBuffer(4, (2,), alpha=0.5, beta=0.4, epsilon=1e-6, seed=0)
    _fill(buffer, 3)
    buffer.update_priorities([0, 1, 2], np.array([1.0, 4.0, 9.0]) - 1e-6)
    # p**alpha = 1, 2, 3 -> P = 1/6, 2/6, 3/6 and w = (N * P)**-beta with N = 3
    by_hand = (3 * np.array([1, 2, 3]) / 6) ** -0.4
    *_, weights = buffer.sample(6)
    indices = buffer.last_indices.numpy()
    assert set(indices.tolist()) == {0, 1, 2}
    expected = by_hand[indices] / by_hand[indices].max()
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-6)
    buffer.beta = 1.0  # annealed: the weights then undo the sampling bias fully
    *_, weights = buffer.sample(6)
    indices = buffer.last_indices.numpy()
    np.testing.assert_allclose(weights.numpy(), (1 / (indices + 1)) / (1 / (indices.min() + 1)))


def test_new_transitions_get_the_largest_priority_yet_and_updates_change_sampling():
    buffer = PrioritizedReplayBuffer(8, (2,), alpha=1.0, seed=0)
    _fill(buffer, 4)
    np.testing.assert_allclose(_frequencies(buffer, draws=8) / 8000, 0.25, atol=0.02)
    buffer.update_priorities([0, 1, 2, 3, 3], [0.0, 0.0, 0.0, 1.0, 5.0])  # the last one wins
    assert buffer.max_priority == pytest.approx(5.0)
    assert _frequencies(buffer, draws=8)[3] / 8000 > 0.999
    _fill(buffer, 1, start=4)
    priorities = buffer.state_dict()["priorities"]
    assert priorities.tolist() == pytest.approx([1e-6, 1e-6, 1e-6, 5.000001, 5.000001])


def test_bad_priorities_raise():
    buffer = PrioritizedReplayBuffer(8, (2,))
    _fill(buffer, 4)
    with pytest.raises(DataError, match="expected finite td errors"):
        buffer.update_priorities([0, 1], torch.tensor([1.0, float("nan")]))
    with pytest.raises(DataError, match=r"indices of stored transitions in \[0, 4\)"):
        buffer.update_priorities([4], [1.0])
    with pytest.raises(DataError, match="one td error per index"):
        buffer.update_priorities([0, 1], [1.0])
    with pytest.raises(ConfigError, match=r"number in \[0, 1\], received beta=1.5"):
        PrioritizedReplayBuffer(8, (2,), beta=1.5)
