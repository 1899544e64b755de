"""pad_sequences against keras.utils.pad_sequences (Keras 3), case by case."""

from __future__ import annotations

import os

import numpy as np
import pytest

from ember import utils
from ember.errors import ConfigError, DataError

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

SEQUENCES = [[1], [2, 3], [4, 5, 6, 7], [], [8, 9, 10]]


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"maxlen": 2},
        {"maxlen": 6},
        {"padding": "post"},
        {"maxlen": 3, "truncating": "post"},
        {"maxlen": 3, "padding": "post", "truncating": "post", "value": -1},
        {"dtype": "float32", "value": 0.5},
        {"dtype": "int64", "maxlen": 1},
    ],
)
def test_pad_sequences_matches_keras(arguments):
    expected = keras.utils.pad_sequences(SEQUENCES, **arguments)
    received = utils.pad_sequences(SEQUENCES, **arguments)
    assert received.dtype == expected.dtype
    np.testing.assert_array_equal(received, expected)


def test_pad_sequences_keeps_the_shape_of_each_item():
    sequences = [np.ones((2, 3)), np.zeros((4, 3)), np.full((1, 3), 2.0)]
    expected = keras.utils.pad_sequences(sequences, maxlen=3, dtype="float32")
    received = utils.pad_sequences(sequences, maxlen=3, dtype="float32")
    assert received.shape == (3, 3, 3)
    np.testing.assert_array_equal(received, expected)


@pytest.mark.parametrize(
    ("sequences", "arguments", "error", "message"),
    [
        ([[1], [2]], {"padding": "middle"}, ConfigError, "received padding='middle'"),
        ([[1], [2]], {"truncating": "both"}, ConfigError, "received truncating='both'"),
        ([[1], [2]], {"maxlen": 0}, ConfigError, "received maxlen=0"),
        (5, {}, DataError, "received int"),
        ([[1], 2], {}, DataError, "item 1 is 2"),
        ([np.ones((2, 3)), np.ones((2, 4))], {}, DataError, r"shape \(4,\), those of"),
    ],
)
def test_pad_sequences_refuses_bad_input(sequences, arguments, error, message):
    with pytest.raises(error, match=message):
        utils.pad_sequences(sequences, **arguments)
