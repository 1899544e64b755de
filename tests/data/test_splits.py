"""Splits: sizes, disjoint parts that cover the data, stratified shares, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ember.data.splits import train_test_split, train_val_test_split, validation_split
from ember.errors import ConfigError, DataError


def _data(n: int = 103):
    x = np.arange(n * 2).reshape(n, 2)  # row i is [2i, 2i + 1]: its index is x[:, 0] // 2
    y = np.array([0] * (n // 2) + [1] * (n // 3) + [2] * (n - n // 2 - n // 3))
    return x, y


def _indices(part) -> list[int]:
    part = part.cpu().numpy() if isinstance(part, torch.Tensor) else part
    return (part[:, 0] // 2).tolist()


def test_train_test_split_sizes_disjoint_and_covering():
    x, y = _data()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, seed=0)
    assert len(x_test) == 26 and len(x_train) == 77  # ceil(0.25 * 103) in the test part
    train, test = _indices(x_train), _indices(x_test)
    assert not set(train) & set(test)
    assert sorted(train + test) == list(range(103))
    assert np.array_equal(y_train, y[train]) and np.array_equal(y_test, y[test])  # rows stay paired


def test_stratified_split_keeps_each_class_share_within_one_sample():
    x, y = _data()
    for test_size in (0.1, 0.25, 0.5, 0.8):
        _, _, y_train, y_test = train_test_split(x, y, test_size=test_size, stratify=True, seed=1)
        for label in range(3):
            share = (y == label).sum() * len(y_test) / len(y)
            assert abs((y_test == label).sum() - share) < 1
            assert (y_train == label).sum() + (y_test == label).sum() == (y == label).sum()


def test_same_seed_same_split_and_other_seed_other_split():
    x, y = _data()
    first = train_test_split(x, y, seed=3)
    again = train_test_split(x, y, seed=3)
    other = train_test_split(x, y, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])
    stratified = train_test_split(x, y, stratify=True, seed=3)
    assert np.array_equal(stratified[1], train_test_split(x, y, stratify=True, seed=3)[1])


def test_tensors_stay_tensors_and_lists_stay_lists():
    x, y = _data()
    x_train, x_test, y_train, y_test = train_test_split(
        torch.from_numpy(x), torch.from_numpy(y), stratify=True, seed=0
    )
    assert all(isinstance(part, torch.Tensor) for part in (x_train, x_test, y_train, y_test))
    assert sorted(_indices(x_train) + _indices(x_test)) == list(range(103))
    train, test = train_test_split(list(range(10)), test_size=0.3, seed=0)
    assert isinstance(train, list) and len(test) == 3 and sorted(train + test) == list(range(10))


def test_one_hot_labels_are_stratified_by_class():
    x, y = _data()
    one_hot = np.eye(3)[y]
    _, _, _, y_test = train_test_split(x, one_hot, test_size=0.2, stratify=True, seed=0)
    counts = y_test.sum(axis=0)
    expected = np.bincount(y) * len(y_test) / len(y)
    assert np.all(np.abs(counts - expected) < 1)


def test_no_shuffle_puts_the_last_samples_in_the_test_part():
    x, _ = _data(10)
    x_train, x_test = train_test_split(x, test_size=0.3, shuffle=False)
    assert _indices(x_train) == list(range(7)) and _indices(x_test) == [7, 8, 9]


def test_train_val_test_split_sizes_disjoint_and_stratified():
    x, y = _data()
    parts = train_val_test_split(x, y, val_size=0.15, test_size=0.2, stratify=True, seed=0)
    x_train, x_val, x_test, y_train, y_val, y_test = parts
    assert (len(x_train), len(x_val), len(x_test)) == (103 - 16 - 21, 16, 21)
    indices = _indices(x_train) + _indices(x_val) + _indices(x_test)
    assert sorted(indices) == list(range(103))
    for part in (y_val, y_test):
        for label in range(3):
            share = (y == label).sum() * len(part) / len(y)
            assert abs((part == label).sum() - share) < 2  # the validation part is drawn second
    unshuffled = train_val_test_split(x, val_size=0.1, test_size=0.1, shuffle=False)
    assert _indices(unshuffled[2]) == list(range(92, 103))


def test_validation_split_takes_the_last_fraction_like_keras():
    x, y = _data(10)
    (x_train, y_train), (x_val, y_val) = validation_split((x, y), 0.25)
    assert _indices(x_train) == list(range(7)) and _indices(x_val) == [7, 8, 9]  # floor(7.5)
    assert np.array_equal(y_val, y[7:])
    train, val = validation_split(torch.arange(10), 0.2)
    assert train.tolist() == list(range(8)) and val.tolist() == [8, 9]
    (x_train, nothing), (x_val, nothing_val) = validation_split([x, None], 0.5)
    assert nothing is None and nothing_val is None and len(x_val) == 5


def test_invalid_sizes_lengths_and_rare_classes_raise():
    x, y = _data()
    for size in (0, 1, 1.5, -0.2):
        with pytest.raises(ConfigError, match=f"received test_size={size}"):
            train_test_split(x, y, test_size=size)
    with pytest.raises(ConfigError, match="val_size \\+ test_size must be below 1"):
        train_val_test_split(x, y, val_size=0.5, test_size=0.5)
    with pytest.raises(DataError, match="different lengths: 103 vs 102"):
        train_test_split(x, y[:-1])
    rare = y.copy()
    rare[0] = 7
    with pytest.raises(DataError, match=r"class\(es\) \[7\] have only 1"):
        train_test_split(x, rare, stratify=True)
    with pytest.raises(ConfigError, match="stratify=True needs labels y"):
        train_test_split(x, stratify=True)
    with pytest.raises(ConfigError, match="stratify needs shuffle=True"):
        train_test_split(x, y, stratify=True, shuffle=False)
    with pytest.raises(DataError, match="too few"):
        train_test_split(np.arange(1), test_size=0.5)
    with pytest.raises(DataError, match="cannot be split"):
        validation_split(np.arange(1), 0.5)
    with pytest.raises(ConfigError, match="received validation_split=1.2"):
        validation_split(np.arange(3), 1.2)
