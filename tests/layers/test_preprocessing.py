"""Rescaling, Normalization (adapt), Resizing and CenterCrop against Keras 3 (torch backend)."""

import os

import numpy as np
import pytest
import torch

import ember
from ember import layers, models
from ember.errors import ConfigError, DataError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = (RNG.random((3, 9, 13, 2)) * 255).astype("float32")  # (N, H, W, C)
TABLE = RNG.normal(3.0, 2.0, (40, 4, 3)).astype("float32")


def keras_output(layer, x) -> np.ndarray:
    return layer(x).detach().cpu().numpy()


def ember_output(layer, x) -> np.ndarray:
    return layer(torch.as_tensor(x)).detach().numpy()


# -- Rescaling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), ([1.0, 2.0], [0.5, -1.0])])
def test_rescaling_matches_keras(scale, offset):
    expected = keras_output(keras.layers.Rescaling(scale, offset), IMAGES)
    np.testing.assert_allclose(ember_output(layers.Rescaling(scale, offset), IMAGES), expected)


def test_rescaling_turns_integer_images_into_float32():
    out = layers.Rescaling(1 / 127.5, offset=-1)(torch.tensor([[0, 255]], dtype=torch.uint8))
    assert out.dtype == torch.float32 and out.tolist() == [[-1.0, 1.0]]


def test_rescaling_refuses_a_scale_that_is_not_a_number():
    with pytest.raises(ConfigError, match="received scale='half'"):
        layers.Rescaling("half")


# -- Normalization -------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, None, (1, 2), 1])
def test_normalization_adapt_matches_keras(axis):
    reference = keras.layers.Normalization(axis=axis)
    reference.adapt(TABLE)
    norm = layers.Normalization(axis=axis)
    norm.adapt(TABLE)
    np.testing.assert_allclose(
        ember_output(norm, TABLE[:5]), keras_output(reference, TABLE[:5]), atol=1e-5
    )


def test_normalization_learns_the_biased_variance_over_batches_as_over_the_whole_array():
    norm = layers.Normalization()
    # An iterable of batches: tensors, arrays, (x, y) pairs, of different sizes.
    norm.adapt(iter([torch.tensor(TABLE[:7]), TABLE[7:30], (TABLE[30:], None)]))
    np.testing.assert_allclose(norm.mean.numpy(), TABLE.mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(norm.variance.numpy(), TABLE.var(axis=(0, 1)), rtol=1e-5)


def test_normalization_with_given_statistics_broadcasts_and_inverts_as_keras():
    for kwargs in (
        {"mean": [1.0, 2, 3], "variance": [4.0, 5, 6], "invert": True},
        {"axis": (1, 2), "mean": [1.0, 2, 3], "variance": [4.0, 5, 6]},
        {"mean": 3.0, "variance": 2.0},
    ):
        expected = keras_output(keras.layers.Normalization(**kwargs), TABLE)
        np.testing.assert_allclose(
            ember_output(layers.Normalization(**kwargs), TABLE), expected, atol=1e-6
        )


def test_normalization_adapt_on_data_of_the_wrong_rank_names_the_rank_and_the_fix():
    norm = layers.Normalization()
    norm.adapt(TABLE)
    norm(torch.as_tensor(TABLE[:2]))  # built for (batch, 4, 3)
    with pytest.raises(ShapeError, match=r"expects data of rank 3.*\(40, 12\).*Fix: reshape"):
        norm.adapt(TABLE.reshape(40, 12))
    with pytest.raises(
        ShapeError, match=r"axis=\(3,\)\) needs inputs of rank 4.*\(40, 4, 3\).*Fix"
    ):
        layers.Normalization(axis=3).adapt(TABLE)
    with pytest.raises(ShapeError, match="would keep the batch axis.*Fix: pass axis=None"):
        layers.Normalization().adapt(np.arange(5.0))
    with pytest.raises(ShapeError, match=r"kept axes \(2,\) have sizes \(2,\), expected \(3,\)"):
        layers.Normalization().adapt([TABLE[:3], TABLE[:3, :, :2]])


def test_normalization_is_the_identity_until_adapted_as_in_keras():
    norm = layers.Normalization()
    x = torch.randn(4, 3)
    torch.testing.assert_close(norm(x), x)  # mean 0, variance 1
    norm.adapt(np.array([[0.0, 2.0, 4.0], [2.0, 4.0, 8.0]]))  # adapt after building
    torch.testing.assert_close(norm(torch.tensor([[2.0, 4.0, 8.0]])), torch.ones(1, 3))


def test_normalization_bad_arguments_and_data_are_errors():
    with pytest.raises(ConfigError, match="needs mean and variance together"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ConfigError, match=r"one shape.*\(2,\) and \(3,\)"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0, 1.0])
    with pytest.raises(ConfigError, match="received axis='last'"):
        layers.Normalization(axis="last")
    with pytest.raises(DataError, match="received no data"):
        layers.Normalization().adapt(iter([]))
    with pytest.raises(DataError, match="NaN or inf"):
        layers.Normalization().adapt(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_sequential_starting_with_rescaling_and_normalization_saves_and_loads(tmp_path):
    images = torch.rand(8, 6, 6, 3) * 255
    norm = layers.Normalization()
    norm.adapt(images / 255)
    model = models.Sequential(
        [
            layers.Rescaling(1 / 255, input_shape=(6, 6, 3)),
            norm,
            layers.CenterCrop(4, 4),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    model.save(tmp_path / "model")
    loaded = ember.load_model(tmp_path / "model")
    assert torch.equal(loaded.predict(images), model.predict(images))
    assert torch.equal(loaded.layers[1].variance, norm.variance)  # a buffer in the weights


# -- Resizing and CenterCrop ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"interpolation": "nearest"},
        {"interpolation": "bicubic"},
        {"crop_to_aspect_ratio": True},
        {"pad_to_aspect_ratio": True, "fill_value": 3.0},
        {"antialias": True},
    ],
)
@pytest.mark.parametrize("size", [(5, 7), (12, 4)])
def test_resizing_matches_keras(kwargs, size):
    expected = keras_output(keras.layers.Resizing(*size, **kwargs), IMAGES)
    np.testing.assert_allclose(
        ember_output(layers.Resizing(*size, **kwargs), IMAGES), expected, atol=1e-4, rtol=1e-6
    )


def test_resizing_keeps_integer_images_integer_as_keras():
    images = IMAGES.astype("uint8")
    expected = keras_output(keras.layers.Resizing(5, 7), images)
    out = layers.Resizing(5, 7)(torch.as_tensor(images))
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.numpy(), expected)
    assert layers.Resizing(5, 7)(torch.as_tensor(IMAGES[0])).shape == (5, 7, 2)  # one image


@pytest.mark.parametrize("size", [(5, 7), (9, 13), (12, 4), (20, 20)])
def test_center_crop_matches_keras_also_when_the_image_is_smaller(size):
    expected = keras_output(keras.layers.CenterCrop(*size), IMAGES)
    np.testing.assert_allclose(ember_output(layers.CenterCrop(*size), IMAGES), expected, atol=1e-4)


def test_image_layers_refuse_bad_arguments_and_inputs():
    with pytest.raises(ConfigError, match="received interpolation='lanczos3'"):
        layers.Resizing(4, 4, interpolation="lanczos3")
    with pytest.raises(ConfigError, match="at most one of crop_to_aspect_ratio"):
        layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ConfigError, match="received height=0"):
        layers.CenterCrop(0, 4)
    with pytest.raises(ShapeError, match=r"\(N, H, W, C\).*received shape \(4, 4\).*Fix"):
        layers.CenterCrop(2, 2)(torch.ones(4, 4))
