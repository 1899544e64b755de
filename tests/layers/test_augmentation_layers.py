"""Keras' random augmentation layers: fixed transforms against Keras 3 (torch backend), the
random ones by their closed forms and bounds, identity in eval mode, and argument errors."""

import math
import os

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

RNG = np.random.default_rng(1)
IMAGES = RNG.random((3, 7, 9, 2)).astype("float32")  # (N, H, W, C) in [0, 1]
X = torch.from_numpy(IMAGES)


def keras_training_output(layer) -> np.ndarray:
    return layer(IMAGES, training=True).detach().cpu().numpy()


def each_image_is_one_of(out: torch.Tensor, *candidates: torch.Tensor) -> list[int]:
    """For each image, which candidate it equals exactly (fails if none)."""
    chosen = []
    for index in range(len(out)):
        matches = [k for k, c in enumerate(candidates) if torch.equal(out[index], c[index])]
        assert matches, f"image {index} is none of the expected outcomes"
        chosen.append(matches[0])
    return chosen


# -- the warps equal Keras' for the same transform -------------------------------------------------
@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_fixed_rotation_zoom_and_translation_match_keras(fill_mode, interpolation):
    options = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 0.5}
    pairs = [
        (keras.layers.RandomRotation((0.15, 0.15), **options),
         layers.RandomRotation((0.15, 0.15), **options)),
        (keras.layers.RandomZoom((-0.3, -0.3), (0.2, 0.2), **options),
         layers.RandomZoom((-0.3, -0.3), (0.2, 0.2), **options)),
        (keras.layers.RandomTranslation((0.2, 0.2), (-0.1, -0.1), **options),
         layers.RandomTranslation((0.2, 0.2), (-0.1, -0.1), **options)),
    ]  # fmt: skip
    for reference, layer in pairs:
        np.testing.assert_allclose(layer(X).numpy(), keras_training_output(reference), atol=1e-5)


def test_fixed_brightness_matches_keras_and_factors_follow_keras_rules():
    reference = keras.layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))
    out = layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))(X)
    np.testing.assert_allclose(out.numpy(), keras_training_output(reference), atol=1e-6)
    for factor in (0.3, (-0.2, 0.5), (0.4, 0.1)):
        assert (
            layers.RandomBrightness(factor).factor == keras.layers.RandomBrightness(factor).factor
        )
        assert layers.RandomRotation(factor).factor == keras.layers.RandomRotation(factor).factor
    for factor in (0.3, (0.2, 0.5)):  # Keras 3: a single number f draws from [1, 1 + f]
        assert layers.RandomContrast(factor).factor == keras.layers.RandomContrast(factor).factor


# -- the random layers: closed forms and bounds ----------------------------------------------------
def test_random_contrast_scales_each_image_and_channel_about_its_mean_by_one_factor():
    images = torch.rand(64, 5, 6, 3) * 100 + 50
    out = layers.RandomContrast((0.5, 0.5), seed=3)(images)  # factors in [0.5, 1.5], no clipping
    mean = images.mean(dim=(1, 2), keepdim=True)  # (N, 1, 1, C): per image and channel
    centred, moved = images - mean, out - mean
    factor = (centred * moved).sum(dim=(1, 2, 3)) / (centred**2).sum(dim=(1, 2, 3))  # (N,)
    # Keras' formula, (x - mean) * factor + mean, with one factor per image for all channels.
    torch.testing.assert_close(out, centred * factor.view(-1, 1, 1, 1) + mean)
    assert 0.5 <= factor.min() and factor.max() <= 1.5 and factor.std() > 0.1


def test_random_contrast_and_brightness_clip_to_the_value_range():
    images = torch.rand(16, 4, 4, 3)
    assert layers.RandomContrast((1.0, 1.0), value_range=(0, 1))(images).max() <= 1
    brightened = layers.RandomBrightness((0.5, 1.0), value_range=(0, 1))(images)
    assert brightened.min() >= images.min() + 0.5 - 1e-6 and brightened.max() <= 1


def test_random_flip_flips_some_images_exactly_and_both_axes_together_as_keras():
    images = torch.rand(32, 4, 5, 1)
    horizontal = layers.RandomFlip("horizontal", seed=0)(images)
    assert set(each_image_is_one_of(horizontal, images, images.flip(2))) == {0, 1}
    vertical = layers.RandomFlip("vertical", seed=0)(images)
    assert set(each_image_is_one_of(vertical, images, images.flip(1))) == {0, 1}
    both = layers.RandomFlip(seed=0)(images)  # unchanged, or half a turn (Keras 3 draws once)
    assert set(each_image_is_one_of(both, images, images.flip((1, 2)))) == {0, 1}


def test_seeded_layers_repeat_their_draws():
    images = torch.rand(8, 6, 6, 3)
    for make in (lambda: layers.RandomFlip(seed=5), lambda: layers.RandomRotation(0.2, seed=5)):
        assert torch.equal(make()(images), make()(images))


def test_random_rotation_and_translation_stay_within_their_factor_ranges():
    images = torch.rand(256, 8, 8, 1)
    rotation = layers.RandomRotation((-0.1, 0.05), seed=0)
    matrices = rotation.rotate.inverse_matrices(images.permute(0, 3, 1, 2))
    turns = torch.atan2(matrices[:, 1, 0], matrices[:, 0, 0]) / (2 * math.pi)
    assert -0.1 <= turns.min() < -0.08 and 0.04 < turns.max() <= 0.05
    translation = layers.RandomTranslation(0.2, (0.0, 0.1), seed=0)
    matrices = translation.translate.inverse_matrices(images.permute(0, 3, 1, 2))
    down, right = -matrices[:, 1, 2] / 2, -matrices[:, 0, 2] / 2  # fractions of the size
    assert -0.2 <= down.min() < -0.18 and 0.18 < down.max() <= 0.2
    assert 0 <= right.min() and right.max() <= 0.1


def test_random_crop_takes_a_window_of_each_image_and_resizes_in_eval_as_keras_documents():
    images = torch.arange(2 * 8 * 6, dtype=torch.float32).view(2, 8, 6, 1)
    crop = layers.RandomCrop(4, 4, seed=0)
    out = crop(images)
    for image, window in zip(images, out):
        starts = [(t, s) for t in range(5) for s in range(3)]
        assert any(torch.equal(image[t : t + 4, s : s + 4], window) for t, s in starts)
    expected = keras.layers.Resizing(4, 4, crop_to_aspect_ratio=True)(images.numpy())
    np.testing.assert_allclose(crop.eval()(images).numpy(), expected.cpu().numpy(), atol=1e-5)
    assert crop.train()(torch.rand(2, 3, 3, 1)).shape == (2, 4, 4, 1)  # smaller: resized


# -- eval mode: the identity -----------------------------------------------------------------------
def test_augmentation_layers_are_the_identity_in_eval_mode_and_in_predict():
    augmenting = [
        layers.RandomFlip(),
        layers.RandomRotation(0.3),
        layers.RandomZoom(0.3),
        layers.RandomTranslation(0.2, 0.2),
        layers.RandomContrast(0.5),
        layers.RandomBrightness(0.5),
    ]
    images = torch.randint(0, 256, (4, 6, 6, 3), dtype=torch.uint8)
    for layer in augmenting:
        out = layer.eval()(images)
        assert out.dtype == torch.float32 and torch.equal(out, images.float())
    model = models.Sequential([layers.RandomFlip(input_shape=(6, 6, 3)), layers.Flatten()])
    assert torch.equal(model.predict(images.float()), images.float().flatten(1))


# -- bad arguments and inputs ----------------------------------------------------------------------
def test_augmentation_layers_refuse_bad_arguments():
    with pytest.raises(ConfigError, match="received mode='diagonal'"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ConfigError, match=r"a number in \[-1, 1\].*received factor=1.5"):
        layers.RandomRotation(1.5)
    with pytest.raises(ConfigError, match=r"a number in \(-1, 1\].*received height_factor=-1"):
        layers.RandomZoom(-1)
    with pytest.raises(ConfigError, match=r"received width_factor=\(0.1, 0.2, 0.3\)"):
        layers.RandomTranslation(0.1, (0.1, 0.2, 0.3))
    with pytest.raises(ConfigError, match=r"a number in \[0, 1\].*received factor=-0.2"):
        layers.RandomContrast(-0.2)
    with pytest.raises(ConfigError, match="received value_range=255"):
        layers.RandomBrightness(0.2, value_range=255)
    with pytest.raises(ConfigError, match="fill_mode='wrap' is not available.*Fix: use"):
        layers.RandomRotation(0.1, fill_mode="wrap")
    with pytest.raises(ConfigError, match="received interpolation='bicubic'"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ConfigError, match="received seed=-1"):
        layers.RandomCrop(4, 4, seed=-1)


def test_augmentation_layers_refuse_inputs_that_are_not_images():
    with pytest.raises(ShapeError, match=r"RandomFlip expects images.*received shape \(4, 4\)"):
        layers.RandomFlip()(torch.ones(4, 4))
