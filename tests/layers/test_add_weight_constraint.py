"""``add_weight(constraint=...)`` against Keras 3 (torch backend): the weight keeps its
constraint (Keras' ``variable.constraint``) and the engine projects it after every optimizer
step, as it projects ``kernel_constraint``."""

import os

import numpy as np
import pytest
import torch

import ember
from ember import layers, models, optimizers
from ember.errors import UnknownNameError
from ember.layers import constraints
from ember.train.stepping import build_steps

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def projection_layer(base, constraint):
    """A Keras-style custom layer (the same source for both libraries): ``x @ w``, ``w``
    made by add_weight with ``constraint``."""

    class Projection(base):
        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], 3), initializer="ones", constraint=constraint
            )

        def call(self, inputs):
            return inputs @ self.w

    return Projection()


@pytest.mark.parametrize("name", ["MaxNorm", "NonNeg", "UnitNorm"])
def test_add_weight_constraint_after_fit_steps_equals_keras(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32") * 3
    y = rng.normal(size=(8, 3)).astype("float32") * 3
    ours = models.Sequential([projection_layer(layers.Layer, getattr(constraints, name)())])
    theirs = keras.Sequential(
        [
            keras.Input((4,)),
            projection_layer(keras.layers.Layer, getattr(keras.constraints, name)()),
        ]
    )
    ours.compile(optimizers.SGD(learning_rate=0.5), "mse", device="cpu")
    theirs.compile(keras.optimizers.SGD(learning_rate=0.5), "mse")
    ours.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        ours.layers[0].w.detach().numpy(), theirs.layers[0].get_weights()[0], atol=1e-6
    )


def test_a_constraint_by_name_or_function_and_none_means_no_work():
    layer = projection_layer(layers.Layer, "non_neg")
    layer(torch.zeros(1, 2))
    assert isinstance(layer.w.constraint, constraints.NonNeg)
    clip = projection_layer(layers.Layer, lambda w: w.clamp(-0.1, 0.1))
    task = ember.Supervised(models.Sequential([clip]), "mse")
    clip(torch.zeros(1, 2))
    build_steps(task, "sgd", 1, 1)[0].constrain()
    assert clip.w.detach().max().item() == pytest.approx(0.1)
    plain = models.Sequential([projection_layer(layers.Layer, None)])
    plain(torch.zeros(1, 2))
    assert build_steps(ember.Supervised(plain, "mse"), "sgd", 1, 1)[0].constrain is None


def test_an_unknown_constraint_name_is_refused_before_any_weight():
    layer = projection_layer(layers.Layer, "non_negative")
    with pytest.raises(UnknownNameError, match="non_negative"):
        layer(torch.zeros(1, 2))
    assert not list(layer.parameters())
