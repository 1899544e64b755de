"""to_categorical and normalize against keras.utils (Keras 3, torch backend)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from ember import utils
from ember.errors import ConfigError, DataError

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [
        ([0, 1, 2, 3], None),
        ([1, 0, 1], 4),
        (np.array([[2], [0], [1]]), None),  # (n, 1) labels: the 1 is dropped, as in Keras
        (np.array([[0, 1], [2, 2]]), 3),
        (np.array([0.0, 2.0, 1.0], dtype="float32"), None),  # integral floats are labels
    ],
)
def test_to_categorical_matches_keras(labels, num_classes):
    expected = keras.utils.to_categorical(labels, num_classes)
    received = utils.to_categorical(labels, num_classes)
    assert isinstance(received, np.ndarray) and received.dtype == expected.dtype
    np.testing.assert_array_equal(received, expected)


def test_to_categorical_of_a_tensor_is_a_float32_tensor():
    received = utils.to_categorical(torch.tensor([[1], [0]]), num_classes=3)
    assert received.dtype == torch.float32
    assert received.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("labels", "num_classes", "error", "message"),
    [
        ([0, -1], None, DataError, "indices >= 0, received -1"),
        ([0, 3], 3, DataError, "class index 3 with num_classes=3"),
        ([0.5, 1.0], None, DataError, "fractional values such as 0.5"),
        (["a", "b"], None, DataError, "dtype <U1"),
        ([0, 1], 0, ConfigError, "received num_classes=0"),
    ],
)
def test_to_categorical_refuses_bad_labels(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        utils.to_categorical(labels, num_classes)


@pytest.mark.parametrize(("axis", "order"), [(-1, 2), (1, 1), (-1, 3)])
def test_normalize_matches_keras(axis, order):
    x = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    expected = keras.utils.normalize(x, axis=axis, order=order)
    np.testing.assert_allclose(utils.normalize(x, axis=axis, order=order), expected)
    tensor = utils.normalize(torch.tensor(x, dtype=torch.float32), axis=axis, order=order)
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-6)


def test_normalize_along_the_first_axis_divides_each_column():
    # (Keras' numpy path expands the norms at the last axis whatever `axis` is.)
    x = np.array([[3.0, 1.0], [4.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x, axis=0), [[0.6, 1.0], [0.8, 0.0]])


def test_normalize_refuses_a_non_positive_order():
    with pytest.raises(ConfigError, match="received order=0"):
        utils.normalize(np.ones(3), order=0)
