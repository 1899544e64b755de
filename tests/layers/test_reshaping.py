"""Reshaping layers against Keras 3 (torch backend): every padding/cropping form, bilinear
upsampling numerics, configs, Sequential use and errors."""

import os

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _random(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def _assert_equals_keras(ours, theirs, x, atol=1e-6):
    expected = theirs(x.clone()).detach().cpu().numpy()
    result = ours(x)
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(result.numpy(), expected, atol=atol)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Permute", {"dims": (2, 1)}, (2, 3, 4)),
        ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
        ("RepeatVector", {"n": 3}, (2, 4)),
        ("UpSampling1D", {"size": 3}, (2, 4, 2)),
        ("UpSampling2D", {"size": 2}, (2, 3, 4, 2)),
        ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
        ("UpSampling2D", {"size": (3, 2), "data_format": "channels_first"}, (2, 2, 3, 4)),
        (
            "UpSampling2D",
            {"size": 2, "interpolation": "bilinear", "data_format": "channels_first"},
            (2, 2, 3, 4),
        ),
        ("ZeroPadding1D", {"padding": 2}, (2, 3, 2)),
        ("ZeroPadding1D", {"padding": (0, 3)}, (2, 3, 2)),
        ("ZeroPadding2D", {"padding": 1}, (2, 3, 4, 2)),
        ("ZeroPadding2D", {"padding": (1, 2)}, (2, 3, 4, 2)),
        ("ZeroPadding2D", {"padding": ((0, 1), (2, 3))}, (2, 3, 4, 2)),
        (
            "ZeroPadding2D",
            {"padding": ((1, 0), (0, 2)), "data_format": "channels_first"},
            (2, 2, 3, 4),
        ),
        ("Cropping1D", {"cropping": 1}, (2, 5, 2)),
        ("Cropping1D", {"cropping": (2, 0)}, (2, 5, 2)),
        ("Cropping2D", {"cropping": 1}, (2, 5, 6, 2)),
        ("Cropping2D", {"cropping": (1, 2)}, (2, 5, 6, 2)),
        ("Cropping2D", {"cropping": ((0, 2), (3, 1))}, (2, 5, 6, 2)),
        (
            "Cropping2D",
            {"cropping": ((1, 0), (0, 2)), "data_format": "channels_first"},
            (2, 2, 5, 6),
        ),
    ],
)
def test_reshaping_layers_equal_keras(name, kwargs, shape):
    x = _random(*shape)
    ours = getattr(layers, name)(**kwargs)
    _assert_equals_keras(ours, getattr(keras.layers, name)(**kwargs), x)
    clone = type(ours)(**ours.get_config())
    torch.testing.assert_close(clone(x), ours(x))


def test_reshape_infers_minus_one_like_keras():
    x = _random(2, 12)
    _assert_equals_keras(layers.Reshape((-1, 3)), keras.layers.Reshape((-1, 3)), x)


def test_layers_work_inside_sequential():
    model = models.Sequential(
        [layers.Dense(4, input_shape=(3,)), layers.RepeatVector(2), layers.Permute((2, 1))]
    )
    x = _random(5, 3)
    dense = model.layers[0]
    expected = (x @ dense.weight.T + dense.bias).unsqueeze(1).expand(5, 2, 4).transpose(1, 2)
    torch.testing.assert_close(model(x), expected)
    images = models.Sequential(
        [
            layers.ZeroPadding2D(1, input_shape=(4, 4, 1)),
            layers.UpSampling2D(2),
            layers.Cropping2D(2),
            layers.Flatten(),
        ]
    )
    assert images(_random(3, 4, 4, 1)).shape == (3, 8 * 8)


def test_gradients_flow_through_bilinear_upsampling():
    x = _random(1, 2, 2, 1).requires_grad_()
    layers.UpSampling2D(2, interpolation="bilinear")(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 4.0))  # each input spreads over 4


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Permute((1, 3)), "permutation of 1..n"),
        (lambda: layers.Permute((0, 1)), "axis 0 is the batch"),
        (lambda: layers.RepeatVector(0), "positive integer, received n=0"),
        (lambda: layers.UpSampling1D(1.5), "positive integer, received size=1.5"),
        (lambda: layers.UpSampling2D((2, 2, 2)), "two of them"),
        (lambda: layers.UpSampling2D(interpolation="cubic"), "interpolation in"),
        (lambda: layers.UpSampling2D(data_format="nhwc"), "data_format in"),
        (lambda: layers.ZeroPadding1D(-1), "non-negative integer"),
        (lambda: layers.ZeroPadding2D((1, 2, 3)), "2 integers or 2 .before, after. pairs"),
        (lambda: layers.ZeroPadding2D(((1, 2), (3,))), "non-negative integer or two"),
        (lambda: layers.Cropping1D((1, 2, 3)), "two of them"),
        (lambda: layers.Cropping2D("same"), "received cropping='same'"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (
            layers.Permute((2, 1)),
            (2, 3),
            r"Permute expects per-sample shape of 2 axes, received \(3,\)",
        ),
        (layers.RepeatVector(2), (2, 3, 4), r"\(batch, features\).*\(3, 4\)"),
        (layers.UpSampling1D(), (2, 3), r"UpSampling1D expects per-sample shape \(steps"),
        (layers.UpSampling2D(), (2, 3, 4), r"\(rows, cols, channels\), received \(3, 4\)"),
        (layers.ZeroPadding2D(), (2, 3, 4), r"ZeroPadding2D expects"),
        (layers.Cropping1D(2), (2, 4, 1), r"removes 4 of the 4 entries of axis 1"),
        (
            layers.Cropping2D(((0, 0), (3, 3))),
            (2, 9, 5, 1),
            r"removes 6 of the 5 entries of axis 2",
        ),
    ],
)
def test_bad_shapes(layer, shape, message):
    with pytest.raises(ShapeError, match=message):
        layer(torch.zeros(*shape))
