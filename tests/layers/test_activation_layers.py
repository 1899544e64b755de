"""Activation layers against Keras 3 (torch backend), PReLU with Keras' weights copied in."""

import os

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, ShapeError
from ember.layers import constraints

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _random(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 2


def _keras(layer, x):
    return layer(x.clone()).detach().cpu().numpy()


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("ReLU", {}),
        ("ReLU", {"max_value": 1.0}),
        ("ReLU", {"max_value": 6.0}),
        ("ReLU", {"negative_slope": 0.1}),
        ("ReLU", {"threshold": 0.5}),
        ("ReLU", {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.5}),
        ("ReLU", {"max_value": 1.5, "negative_slope": 0.3}),
        ("LeakyReLU", {}),
        ("LeakyReLU", {"negative_slope": 0.05}),
        ("Softmax", {}),
        ("Softmax", {"axis": 1}),
        ("Softmax", {"axis": [1, 2]}),
        ("ELU", {}),
        ("ELU", {"alpha": 0.5}),
    ],
)
def test_activation_layers_equal_keras(name, kwargs):
    x = _random(2, 3, 4)
    ours = getattr(layers, name)(**kwargs)
    np.testing.assert_allclose(
        ours(x).numpy(), _keras(getattr(keras.layers, name)(**kwargs), x), atol=1e-6
    )
    torch.testing.assert_close(type(ours)(**ours.get_config())(x), ours(x))


def test_leaky_relu_takes_keras_2_alpha():
    x = _random(2, 5)
    torch.testing.assert_close(layers.LeakyReLU(alpha=0.1)(x), layers.LeakyReLU(0.1)(x))


@pytest.mark.parametrize("shared_axes", [None, [1, 2], 1])
def test_prelu_with_keras_weights_equals_keras(shared_axes):
    x = _random(2, 4, 5, 3)
    theirs = keras.layers.PReLU(shared_axes=shared_axes)
    theirs.build((None, 4, 5, 3))
    alpha = np.random.default_rng(0).uniform(0, 0.5, theirs.alpha.shape).astype("float32")
    theirs.set_weights([alpha])
    ours = layers.PReLU(shared_axes=shared_axes)
    ours(x)
    assert tuple(ours.alpha.shape) == tuple(theirs.alpha.shape)
    with torch.no_grad():
        ours.alpha.copy_(torch.from_numpy(alpha))
    np.testing.assert_allclose(ours(x).detach().numpy(), _keras(theirs, x), atol=1e-6)
    assert layers.PReLU()(x).equal(torch.relu(x))  # Keras' default alpha: zeros


def test_prelu_regularizer_constraint_and_config():
    layer = layers.PReLU(
        alpha_initializer="ones",
        alpha_regularizer="l2",
        alpha_constraint="non_neg",
        shared_axes=[1],
    )
    layer(_random(2, 7, 3))
    torch.testing.assert_close(layer.regularization_loss(), torch.tensor(0.01 * 3))
    with torch.no_grad():
        layer.alpha.fill_(-1.0)
    constraints.constraint_step(layer)()
    assert layer.alpha.eq(0).all()
    clone = layers.PReLU(**layer.get_config())
    assert clone.shared_axes == (1,) and isinstance(clone.alpha_constraint, constraints.NonNeg)
    assert layers.PReLU().regularization_loss() is None


def test_activation_layers_in_sequential_and_softmax_trains_on_logits():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.ELU(), layers.Softmax()])
    x = _random(5, 3)
    dense = model.layers[0]
    logits = torch.nn.functional.elu(x @ dense.weight.T + dense.bias)
    torch.testing.assert_close(model(x), logits.softmax(-1))
    assert model.final_activation() == "softmax"  # the loss takes the logits
    torch.testing.assert_close(model.logits(x), logits)


def test_a_mask_passes_through_activation_layers():
    mask = torch.tensor([[True, True, False]])
    for layer in [
        layers.ReLU(),
        layers.LeakyReLU(),
        layers.Softmax(),
        layers.ELU(),
        layers.PReLU(),
    ]:
        assert layer.compute_mask(torch.zeros(1, 3, 2), mask) is mask


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.ReLU(max_value=-1.0), "non-negative number, received max_value=-1.0"),
        (lambda: layers.ReLU(negative_slope=-0.1), "received negative_slope=-0.1"),
        (lambda: layers.ReLU(threshold=None), "received threshold=None"),
        (lambda: layers.LeakyReLU(-1), "received negative_slope=-1"),
        (lambda: layers.Softmax(axis="last"), "integer axis"),
        (lambda: layers.ELU(alpha="one"), "a number, received alpha='one'"),
        (lambda: layers.PReLU(shared_axes=[0]), "integers >= 1"),
        (lambda: layers.PReLU(alpha_initializer="zeroes"), "Did you mean 'zeros'"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_prelu_shape_errors():
    with pytest.raises(ShapeError, match=r"shared_axes=\[3\].*2 per-sample axes"):
        layers.PReLU(shared_axes=[3])(torch.zeros(2, 4, 5))
    layer = layers.PReLU()
    layer(torch.zeros(2, 4, 5))
    with pytest.raises(
        ShapeError, match=r"built for per-sample shape \(4, 5\).*\(6, 5\).*shared_axes=\[1\]"
    ):
        layer(torch.zeros(2, 6, 5))
