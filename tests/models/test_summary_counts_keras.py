"""Parameter counts as Keras 3 (torch backend) reports them: ``summary()``'s total, trainable
and non-trainable params, layer by layer, for Normalization (adapted, and given its
statistics), BatchNormalization, recurrent layers (Keras' one LSTM bias) and frozen layers."""

import os
import re

import numpy as np
import pytest

import ember
from ember.models.summary import count

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
DATA = np.random.default_rng(0).normal(size=(16, 6, 3)).astype("float32")


def stack(library):
    """The same model in both libraries: every kind of weight Keras counts its own way."""
    adapted = library.layers.Normalization()
    adapted.adapt(DATA)
    frozen = library.layers.Dense(5)
    frozen.trainable = False
    return library.Sequential(
        [
            library.Input((6, 3)),
            adapted,
            library.layers.Normalization(mean=[0.0, 1.0, 2.0], variance=[1.0, 2.0, 3.0]),
            library.layers.BatchNormalization(),
            library.layers.LSTM(4, return_sequences=True),
            library.layers.Bidirectional(library.layers.SimpleRNN(3, return_sequences=True)),
            library.layers.GRU(2),
            frozen,
        ]
    )


def keras_counts(layer):
    sizes = [
        [int(np.prod(w.shape)) for w in ws]
        for ws in (layer.trainable_weights, layer.non_trainable_weights)
    ]
    return sum(sizes[0]), sum(sizes[1])


def test_layer_counts_and_totals_equal_keras():
    theirs, ours = stack(keras), stack(ember)
    ours(DATA)
    assert [count(layer) for layer in ours.layers] == [
        keras_counts(layer) for layer in theirs.layers
    ]
    printed = ours.summary()
    trainable, frozen = keras_counts(theirs)
    assert trainable + frozen == theirs.count_params()
    totals = {
        name: int(value.replace(",", ""))
        for name, value in re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", printed)
    }
    assert totals == {
        "Total": theirs.count_params(),
        "Trainable": trainable,
        "Non-trainable": frozen,
    }


def test_count_params_equals_keras():
    theirs, ours = stack(keras), stack(ember)
    ours(DATA)
    assert ours.count_params() == theirs.count_params()
