"""Noise and activity-regularisation layers: identity outside training (as Keras), the noise's
distribution and structure while training, and ActivityRegularization's penalty equal to Keras'
(per call, and through one fit step)."""

import math
import os

import numpy as np
import pytest
import torch

from ember import layers, models, optimizers
from ember.errors import ConfigError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _random(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


NOISE = [
    ("GaussianNoise", {"stddev": 0.3}, (2, 3, 4)),
    ("GaussianDropout", {"rate": 0.4}, (2, 3, 4)),
    ("SpatialDropout1D", {"rate": 0.5}, (2, 3, 4)),
    ("SpatialDropout2D", {"rate": 0.5}, (2, 3, 3, 4)),
]


@pytest.mark.parametrize("name, kwargs, shape", NOISE)
def test_noise_layers_pass_inputs_through_outside_training_as_keras(name, kwargs, shape):
    x = _random(*shape)
    ours = getattr(layers, name)(**kwargs).eval()
    theirs = getattr(keras.layers, name)(**kwargs)(x.clone(), training=False)
    np.testing.assert_array_equal(ours(x).numpy(), theirs.detach().numpy())
    assert type(ours)(**ours.get_config()).get_config() == ours.get_config()
    mask = torch.tensor([[True, False, True]])
    assert ours.compute_mask(x, mask) is mask


def test_gaussian_noise_adds_normal_noise_while_training():
    x = torch.ones(200, 100)
    noise = layers.GaussianNoise(0.3)(x) - x
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 0.3) < 0.01


def test_gaussian_dropout_multiplies_by_normal_noise_of_keras_std():
    x = torch.full((200, 100), 2.0)
    factor = layers.GaussianDropout(0.2)(x) / x
    assert abs(factor.mean().item() - 1) < 0.01
    assert abs(factor.std().item() - math.sqrt(0.2 / 0.8)) < 0.01


@pytest.mark.parametrize(
    "layer, shape, channel_axis",
    [
        (layers.SpatialDropout1D(0.3), (400, 5, 8), -1),
        (layers.SpatialDropout2D(0.3), (400, 3, 3, 8), -1),
        (layers.SpatialDropout2D(0.3, data_format="channels_first"), (400, 8, 3, 3), 1),
    ],
)
def test_spatial_dropout_drops_whole_channels(layer, shape, channel_axis):
    y = layer(torch.ones(shape))
    assert set(y.unique().tolist()) <= {0.0, torch.tensor(1 / 0.7).item()}  # float32
    spatial = [axis for axis in range(1, len(shape)) if axis != channel_axis % len(shape)]
    first = y.narrow(spatial[0], 0, 1)
    assert (y == first).all()  # one decision per sample and channel
    assert abs((y == 0).float().mean().item() - 0.3) < 0.03


def test_a_seed_makes_the_noise_repeatable():
    x = torch.zeros(4, 5)
    assert layers.GaussianNoise(0.5, seed=3)(x).equal(layers.GaussianNoise(0.5, seed=3)(x))
    assert not layers.GaussianNoise(0.5, seed=3)(x).equal(layers.GaussianNoise(0.5, seed=4)(x))


def test_activity_regularization_penalty_equals_keras():
    x = _random(4, 3)
    ours = layers.ActivityRegularization(l1=0.1, l2=0.2)
    assert ours.regularization_loss() is None
    assert ours(x) is x
    theirs = keras.layers.ActivityRegularization(l1=0.1, l2=0.2)
    theirs(x.clone())
    np.testing.assert_allclose(
        ours.regularization_loss().item(), float(theirs.losses[0]), rtol=1e-6
    )
    assert layers.ActivityRegularization(**ours.get_config()).regularizer.get_config() == {
        "l1": 0.1,
        "l2": 0.2,
    }


def test_activity_penalty_counts_once_per_step_as_in_keras_fit():
    x, y = _random(8, 4), _random(8, 3)
    ours = models.Sequential(
        [layers.Dense(3, input_shape=(4,)), layers.ActivityRegularization(l1=0.05, l2=0.5)]
    )
    theirs = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.ActivityRegularization(0.05, 0.5)]
    )
    dense = ours.layers[0]
    theirs.layers[0].set_weights([dense.weight.detach().T.numpy(), dense.bias.detach().numpy()])
    ours.compile(optimizers.SGD(learning_rate=0.1), "mse", device="cpu")
    theirs.compile(keras.optimizers.SGD(learning_rate=0.1), "mse")
    ours_loss = ours.fit(x, y, batch_size=8, shuffle=False, verbose=0).history["loss"][0]
    theirs_history = theirs.fit(x.numpy(), y.numpy(), batch_size=8, shuffle=False, verbose=0)
    assert ours_loss == pytest.approx(theirs_history.history["loss"][0], rel=1e-5)
    kernel, bias = theirs.layers[0].get_weights()
    np.testing.assert_allclose(dense.weight.detach().T.numpy(), kernel, atol=1e-6)
    np.testing.assert_allclose(dense.bias.detach().numpy(), bias, atol=1e-6)
    # evaluate reports the same sum: the mean squared error plus the penalty, once
    outputs = ours(x)
    penalty = (0.05 * outputs.abs().sum() + 0.5 * outputs.square().sum()) / 8
    expected = ((outputs - y) ** 2).mean() + penalty
    assert ours.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.GaussianNoise(1.5), r"in \[0, 1\], received stddev=1.5"),
        (lambda: layers.GaussianNoise(0.1, seed=-1), "non-negative integer, received seed=-1"),
        (lambda: layers.GaussianDropout(1.0), r"rate in \[0, 1\), received rate=1.0"),
        (lambda: layers.SpatialDropout1D(-0.1), "received rate=-0.1"),
        (lambda: layers.SpatialDropout2D(0.1, data_format="nchw"), "data_format in"),
        (lambda: layers.ActivityRegularization(l1=-1), "non-negative number, received l1=-1"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_spatial_dropout_needs_its_rank():
    with pytest.raises(ShapeError, match=r"\(steps, channels\), received \(3, 4, 5\)"):
        layers.SpatialDropout1D(0.5)(torch.zeros(2, 3, 4, 5))
    with pytest.raises(ShapeError, match=r"\(rows, cols, channels\), received \(3, 4\)"):
        layers.SpatialDropout2D(0.5)(torch.zeros(2, 3, 4))
