"""The vectorised sum tree must find exactly what a cumulative-sum search finds."""

import numpy as np
import pytest

from ember.errors import ConfigError, DataError
from ember.rl.sum_tree import SumTree


@pytest.mark.parametrize("capacity", [1, 5, 1000])
def test_find_matches_searchsorted_over_the_cumulative_sum(capacity):
    rng = np.random.default_rng(capacity)
    values = rng.uniform(0, 3, capacity) * (rng.uniform(size=capacity) > 0.2)  # some zeros
    values[0] = max(values[0], 0.5)
    tree = SumTree(capacity)
    tree.update(np.arange(capacity), values)
    targets = rng.uniform(0, values.sum(), 10_000)
    expected = np.searchsorted(np.cumsum(values), targets, side="right")
    np.testing.assert_array_equal(tree.find(targets), expected)
    assert tree.total == pytest.approx(values.sum(), rel=1e-12)


def test_zero_leaves_are_never_found():
    tree = SumTree(6)
    tree.update(np.arange(6), np.array([0.0, 1.0, 0.0, 0.0, 2.0, 0.0]))
    found = tree.find(np.linspace(0, 3, 1000, endpoint=False))
    assert set(found.tolist()) == {1, 4}


def test_repeated_indices_keep_the_last_value():
    tree = SumTree(4)
    tree.update(np.array([2, 0, 2, 2]), np.array([5.0, 1.0, 7.0, 9.0]))
    np.testing.assert_array_equal(tree.values(np.arange(4)), [1.0, 0.0, 9.0, 0.0])
    assert tree.total == 10.0


def test_many_updates_leave_the_sums_exact():
    rng = np.random.default_rng(0)
    tree, values = SumTree(300), np.zeros(300)
    for _ in range(200):
        indices = rng.integers(0, 300, 32)
        new = rng.uniform(0, 10, 32)
        tree.update(indices, new)
        for index, value in zip(indices, new):  # the last write wins, as in the tree
            values[index] = value
    np.testing.assert_array_equal(tree.values(np.arange(300)), values)
    assert tree.total == pytest.approx(values.sum(), rel=1e-12)


def test_bad_arguments_raise():
    with pytest.raises(ConfigError, match="positive integer, received capacity=0"):
        SumTree(0)
    tree = SumTree(4)
    with pytest.raises(DataError, match=r"leaf indices in \[0, 4\)"):
        tree.update(np.array([4]), np.array([1.0]))
    with pytest.raises(DataError, match="finite non-negative"):
        tree.update(np.array([0]), np.array([np.nan]))
    with pytest.raises(DataError, match="finite non-negative"):
        tree.update(np.array([0]), np.array([-1.0]))
