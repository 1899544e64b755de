"""Batch augmentation: exact flips/shifts/rotations, erasing area, eval identity, layouts."""

from __future__ import annotations

import pytest
import torch

from ember.data.augment import (
    Augment,
    GaussianNoise,
    RandomCrop,
    RandomErasing,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from ember.errors import ConfigError, DataError, ShapeError


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int = 16, height: int = 8, width: int = 6, channels: int = 3) -> torch.Tensor:
    return torch.rand(n, height, width, channels, generator=_generator(123))  # (N, H, W, C)


@pytest.mark.parametrize(("mode", "axes"), [("horizontal", [2]), ("vertical", [1])])
def test_flip_gives_each_image_or_its_exact_mirror(mode, axes):
    images = _images(64)
    out = RandomFlip(mode, generator=_generator())(images)
    mirrored = torch.flip(images, axes)
    kept = [torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    flipped = [torch.equal(o, m) for o, m in zip(out, mirrored, strict=True)]
    assert all(k or f for k, f in zip(kept, flipped, strict=True))
    assert 16 < sum(flipped) < 48  # about half


def test_flip_both_axes_covers_all_four_orientations():
    images = _images(200)
    out = RandomFlip("horizontal_and_vertical", generator=_generator())(images)
    seen = set()
    for axes in ([], [1], [2], [1, 2]):
        target = torch.flip(images, axes) if axes else images
        matches = [torch.equal(o, t) for o, t in zip(out, target, strict=True)]
        if any(matches):
            seen.add(tuple(axes))
    assert len(seen) == 4


def test_translation_by_whole_pixels_equals_a_roll_with_fill():
    images = _images(4, height=8, width=6)
    shift = RandomTranslation((2 / 8, 2 / 8), (-1 / 6, -1 / 6), fill_value=0.5)  # 2 down, 1 left
    out = shift(images)
    expected = torch.roll(images, shifts=(2, -1), dims=(1, 2))
    expected[:, :2] = 0.5
    expected[:, :, -1:] = 0.5
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)


def test_rotation_by_zero_is_identity_and_by_half_turn_flips_both_axes():
    images = _images(4)
    torch.testing.assert_close(RandomRotation(0.0)(images), images, atol=1e-5, rtol=0)
    half_turn = RandomRotation((0.5, 0.5))(images)
    torch.testing.assert_close(half_turn, torch.flip(images, [1, 2]), atol=1e-5, rtol=0)


def test_rotation_by_quarter_turn_is_counter_clockwise_like_keras():
    image = torch.arange(16.0).view(1, 4, 4, 1)
    out = RandomRotation((0.25, 0.25))(image)
    torch.testing.assert_close(out, torch.rot90(image, 1, dims=(1, 2)), atol=1e-5, rtol=0)


def test_zoom_out_by_factor_one_halves_the_image():
    image = torch.ones(1, 8, 8, 1)
    out = RandomZoom((1.0, 1.0), interpolation="nearest")(image)
    expected = torch.zeros(1, 8, 8, 1)
    expected[:, 2:6, 2:6] = 1
    torch.testing.assert_close(out, expected)


def test_random_crop_with_padding_takes_shifted_windows_of_the_padded_image():
    images = _images(32, height=6, width=6, channels=2)
    out = RandomCrop(6, 6, padding=2, generator=_generator())(images)
    padded = torch.nn.functional.pad(images.permute(0, 3, 1, 2), (2, 2, 2, 2)).permute(0, 2, 3, 1)
    offsets = set()
    for image, crop in zip(padded, out, strict=True):
        found = [
            (top, left)
            for top in range(5)
            for left in range(5)
            if torch.equal(image[top : top + 6, left : left + 6], crop)
        ]
        assert found
        offsets.add(found[0])
    assert len(offsets) > 5  # the windows vary


def test_random_crop_to_smaller_size_and_centre_crop_in_eval():
    images = _images(4, height=8, width=8)
    crop = RandomCrop(4, 6, generator=_generator())
    assert crop(images).shape == (4, 4, 6, 3)
    assert torch.equal(crop.eval()(images), images[:, 2:6, 1:7])


def test_gaussian_noise_has_the_requested_stddev():
    images = torch.zeros(64, 32, 32, 3)
    noise = GaussianNoise(0.3, generator=_generator())(images)
    assert noise.std().item() == pytest.approx(0.3, rel=0.02)
    assert abs(noise.mean().item()) < 0.01
    with pytest.raises(DataError, match="floating-point"):
        GaussianNoise(0.1)(torch.zeros(2, 4, 4, 3, dtype=torch.uint8))


def test_erasing_covers_a_fraction_within_scale_on_about_probability_of_images():
    images = torch.ones(400, 32, 32, 3)
    out = RandomErasing(probability=0.5, scale=(0.02, 0.33), generator=_generator())(images)
    erased = (out == 0).all(dim=-1).float().mean(dim=(1, 2))  # per image, whole pixels
    assert torch.equal((out == 0).any(dim=-1), (out == 0).all(dim=-1))  # every channel erased
    hit = erased[erased > 0]
    assert 150 < len(hit) < 250
    # The area is drawn from `scale`; rounding the sides to whole pixels moves it a little.
    assert hit.min().item() >= 0.02 * 0.7 and hit.max().item() <= 0.33 * 1.1


@pytest.mark.parametrize(
    "transform",
    [
        RandomFlip(),
        RandomTranslation(0.2, 0.2),
        RandomRotation(0.2),
        RandomZoom(0.3),
        RandomCrop(8, 6, padding=2),
        GaussianNoise(0.5),
        RandomErasing(probability=1.0),
        Augment(RandomFlip(), RandomRotation(0.1), RandomZoom(0.1), RandomErasing()),
    ],
)
def test_eval_mode_is_identity_and_training_keeps_shape_and_dtype(transform):
    images = _images(8)
    assert transform.eval()(images) is images
    out = transform.train()(images)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not torch.equal(out, images) or isinstance(transform, RandomFlip)


def test_integer_images_keep_their_dtype_through_warps():
    images = torch.randint(0, 256, (4, 8, 8, 3), dtype=torch.uint8)
    out = RandomRotation(0.1, generator=_generator())(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    assert torch.equal(RandomRotation(0.0)(images), images)


def test_channels_first_gives_the_same_result_as_channels_last():
    images = _images(8)
    for make in (
        lambda fmt: RandomRotation(0.2, data_format=fmt, generator=_generator(5)),
        lambda fmt: RandomCrop(8, 6, padding=2, data_format=fmt, generator=_generator(5)),
        lambda fmt: RandomErasing(1.0, data_format=fmt, generator=_generator(5)),
        lambda fmt: RandomFlip(data_format=fmt, generator=_generator(5)),
    ):
        last = make("channels_last")(images)
        first = make("channels_first")(images.permute(0, 3, 1, 2))
        torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


def test_single_image_without_batch_axis():
    image = _images(1)[0]
    out = RandomRotation((0.5, 0.5))(image)
    torch.testing.assert_close(out, torch.flip(image, [0, 1]), atol=1e-5, rtol=0)


def test_augment_composes_consecutive_warps_into_one_resampling():
    image = torch.arange(16.0).view(1, 4, 4, 1)
    eighth_turn = RandomRotation((0.125, 0.125))
    # Composed, two eighth turns are one exact quarter turn; resampled twice they would blur.
    composed = Augment(eighth_turn, eighth_turn)(image)
    torch.testing.assert_close(composed, torch.rot90(image, 1, dims=(1, 2)), atol=1e-5, rtol=0)
    twice = eighth_turn(eighth_turn(image))
    assert (twice - composed).abs().max() > 0.5
    # Order matters: a quarter turn, then a shift down by one pixel.
    quarter_then_shift = Augment(RandomRotation((0.25, 0.25)), RandomTranslation((0.25, 0.25), 0))
    expected = torch.roll(torch.rot90(image, 1, dims=(1, 2)), 1, dims=1)
    expected[:, 0] = 0
    torch.testing.assert_close(quarter_then_shift(image), expected, atol=1e-5, rtol=0)


def test_works_as_a_layer_inside_sequential():
    model = torch.nn.Sequential(
        Augment(RandomFlip(), RandomTranslation(0.1, 0.1)),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 6 * 3, 2),
    )
    out = model(_images(4))
    out.sum().backward()
    assert out.shape == (4, 2) and model[2].weight.grad is not None


def test_same_generator_seed_gives_the_same_augmentation():
    images = _images(8)
    first = Augment(
        RandomFlip(generator=_generator(7)), RandomRotation(0.3, generator=_generator(7))
    )
    second = Augment(
        RandomFlip(generator=_generator(7)), RandomRotation(0.3, generator=_generator(7))
    )
    assert torch.equal(first(images), second(images))


def test_invalid_arguments_and_shapes_raise():
    with pytest.raises(ConfigError, match="mode='horizontal'"):
        RandomFlip("diagonal")
    with pytest.raises(ConfigError, match="data_format"):
        RandomRotation(0.1, data_format="NHWC")
    with pytest.raises(ConfigError, match="received factor=-0.1"):
        RandomRotation(-0.1)
    with pytest.raises(ConfigError, match="fill_mode"):
        RandomZoom(0.1, fill_mode="wrap")
    with pytest.raises(ConfigError, match="scale"):
        RandomErasing(scale=(0.5, 0.1))
    with pytest.raises(ShapeError, match=r"received shape \(4, 5\)"):
        RandomFlip()(torch.zeros(4, 5))
