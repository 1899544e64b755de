"""The Keras modules a program imports from `keras` exist in ember under the same names:
utils, ops, regularizers, initializers and optimizers.schedules."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ember
from ember import initializers, layers, ops, optimizers, regularizers, utils
from ember.errors import ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

# The Keras names ember does not provide, each for a reason.
NOT_PROVIDED = {
    "initializers": {"STFT", "STFTInitializer", "stft"},  # audio front-ends
    "regularizers": {"OrthogonalRegularizer", "orthogonal_regularizer"},  # layout-dependent
    "optimizers.schedules": set(),
}
MODULES = {
    "initializers": (initializers, keras.initializers),
    "regularizers": (regularizers, keras.regularizers),
    "optimizers.schedules": (optimizers.schedules, keras.optimizers.schedules),
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_keras_name_of_the_module_exists_in_ember(module):
    ours, theirs = MODULES[module]
    names = {name for name in dir(theirs) if not name.startswith("_")} - NOT_PROVIDED[module]
    assert {name for name in names if not hasattr(ours, name)} == set()


def test_keras_utils_and_ops_names_programs_use_exist():
    used_utils = {"to_categorical", "normalize", "pad_sequences", "PyDataset", "Sequence",
                  "set_random_seed"}  # fmt: skip
    assert {name for name in used_utils if not hasattr(utils, name)} == set()
    keras_ops = {name for name in dir(keras.ops) if not name.startswith("_")}
    ours = {name for name in ops.__all__}
    assert len(ours) > 150 and ours - keras_ops == set()
    assert set(ops.nn.__all__) - set(dir(keras.ops.nn)) == set()


def test_top_level_modules_are_the_layer_modules():
    assert regularizers.L2 is layers.regularizers.L2 is ember.regularizers.l2
    assert initializers.HeNormal is layers.initializers.HeNormal is ember.initializers.he_normal
    from ember.initializers import GlorotUniform  # a module, as `from keras.initializers import`
    from ember.regularizers import L1L2

    assert GlorotUniform is layers.initializers.GlorotUniform and L1L2 is layers.regularizers.L1L2
    assert {"utils", "ops", "regularizers", "initializers"} <= set(dir(ember))


@pytest.mark.parametrize(
    "regularizer", [regularizers.l1(0.01), regularizers.L2(0.02), regularizers.L1L2(0.1, 0.2)]
)
def test_regularizer_penalties_equal_keras(regularizer):
    weight = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    keras_regularizer = keras.regularizers.deserialize(
        {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
    )
    expected = float(keras_regularizer(weight))
    assert float(regularizer(torch.from_numpy(weight))) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (5, 2)])
def test_identity_initializer_equals_keras(shape):
    weight = torch.empty(shape)
    initializers.Identity(gain=1.5)(weight)
    expected = keras.initializers.Identity(gain=1.5)(shape)
    np.testing.assert_array_equal(weight.numpy(), np.asarray(expected))


def test_identity_initializer_refuses_a_weight_that_is_not_a_matrix():
    with pytest.raises(ShapeError, match=r"shape \(2, 2, 3\)"):
        initializers.Identity()(torch.empty(2, 2, 3))


def test_deserialize_reads_keras_configs():
    assert initializers.deserialize({"class_name": "Identity", "config": {"gain": 2.0}}).gain == 2.0
    assert initializers.serialize(initializers.identity()) == "identity"
    assert regularizers.deserialize({"class_name": "L1", "config": {"l1": 0.3}}).l1 == 0.3


def test_a_dense_layer_takes_top_level_initializers_and_regularizers():
    dense = layers.Dense(
        3, kernel_initializer=initializers.Identity(), kernel_regularizer=regularizers.l2(0.5)
    )
    x = torch.randn(2, 3)
    assert torch.allclose(dense(x), x)  # identity kernel, zero bias
    assert float(dense.regularization_loss().detach()) == pytest.approx(
        0.5 * 3
    )  # 0.5 * sum(eye ** 2)
