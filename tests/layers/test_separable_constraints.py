"""DepthwiseConv2D and SeparableConv2D's ``depthwise_constraint``, ``pointwise_constraint``,
``bias_constraint`` and ``*_regularizer`` against Keras 3 (torch backend): weights moved in with
set_weights, the same SGD steps, the constrained kernels and the penalised loss equal Keras'."""

import os

import numpy as np
import pytest

import ember
from ember import layers, optimizers

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
# A MaxNorm that binds (the default max_value=2 does not, on these weights).
MAX_NORM = {"class_name": "MaxNorm", "config": {"max_value": 0.3, "axis": 0}}
IMAGES = np.random.default_rng(0).normal(size=(6, 5, 5, 3)).astype("float32") * 3


def model(library, layer):
    return library.Sequential([layer, library.layers.GlobalAveragePooling2D()])


def trained_pair(name, *args, **config):
    """The layer in Keras and ember with Keras' weights, after two SGD steps on the same data;
    returns both layers and both models' loss on the data (with the weight penalties)."""
    theirs = model(keras, getattr(keras.layers, name)(*args, **config))
    ours = model(ember, getattr(layers, name)(*args, **config))
    outputs = keras.ops.convert_to_numpy(theirs(IMAGES))
    ours(IMAGES)
    targets = np.random.default_rng(1).normal(size=outputs.shape).astype("float32") * 3
    ours.set_weights(theirs.get_weights())
    ours.compile(optimizers.SGD(learning_rate=0.2), "mse", device="cpu")
    theirs.compile(keras.optimizers.SGD(learning_rate=0.2), "mse")
    ours.fit(IMAGES, targets, batch_size=3, shuffle=False, verbose=0)
    theirs.fit(IMAGES, targets, batch_size=3, shuffle=False, verbose=0)
    losses = [m.evaluate(IMAGES, targets, verbose=0) for m in (ours, theirs)]
    return ours, theirs, losses


def assert_same_weights(ours, theirs):
    for mine, keras_array in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(mine, keras_array, atol=1e-5)


@pytest.mark.parametrize(
    "constraints",
    [
        {"depthwise_constraint": MAX_NORM, "bias_constraint": "non_neg"},
        {"depthwise_constraint": "unit_norm"},
    ],
)
def test_depthwise_constraints_equal_keras(constraints):
    ours, theirs, _ = trained_pair("DepthwiseConv2D", 3, depth_multiplier=2, **constraints)
    assert_same_weights(ours, theirs)


def test_separable_constraints_equal_keras():
    config = {
        "depthwise_constraint": MAX_NORM,
        "pointwise_constraint": "unit_norm",
        "bias_constraint": "non_neg",
    }
    ours, theirs, _ = trained_pair("SeparableConv2D", 8, 3, depth_multiplier=2, **config)
    assert_same_weights(ours, theirs)


def test_depthwise_and_pointwise_regularizers_equal_keras():
    config = {
        "depthwise_regularizer": "l2",
        "pointwise_regularizer": "l1",
        "bias_regularizer": "l2",
        "bias_initializer": "ones",
    }
    ours, theirs, (our_loss, their_loss) = trained_pair("SeparableConv2D", 8, 3, **config)
    assert_same_weights(ours, theirs)
    assert our_loss == pytest.approx(their_loss, abs=1e-5)
    _, _, (our_loss, their_loss) = trained_pair(
        "DepthwiseConv2D", 3, depthwise_regularizer="l1", bias_regularizer="l2"
    )
    assert our_loss == pytest.approx(their_loss, abs=1e-5)


def test_the_constraints_are_part_of_the_config():
    layer = layers.SeparableConv2D(4, 3, depthwise_constraint="non_neg")
    rebuilt = layers.SeparableConv2D(**layer.get_config())
    assert type(rebuilt.depthwise_constraint).__name__ == "NonNeg"
    assert rebuilt.pointwise_constraint is None
