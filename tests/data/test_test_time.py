"""Test-time augmentation: flip axes per layout, averaging, and ``Model.predict(tta=...)``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.data import with_test_time_augmentation
from ember.errors import ConfigError


def _images(n: int = 4, height: int = 3, width: int = 5, channels: int = 2) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(n, height, width, channels, generator=generator)  # (N, H, W, C)


@pytest.mark.parametrize(
    ("data_format", "transform", "axis"),
    [
        ("channels_last", "horizontal_flip", 2),  # (N, H, W, C): width is axis 2
        ("channels_last", "vertical_flip", 1),
        ("channels_first", "horizontal_flip", 3),  # (N, C, H, W): width is axis 3
        ("channels_first", "vertical_flip", 2),
    ],
)
def test_flips_reverse_the_width_or_height_axis_of_each_layout(data_format, transform, axis):
    x = _images() if data_format == "channels_last" else _images().permute(0, 3, 1, 2)
    mirrored = with_test_time_augmentation(
        torch.nn.Identity(), [transform], data_format=data_format
    )
    assert torch.equal(mirrored(x), x.flip(axis))


def test_flip_preset_averages_the_image_and_its_mirror_image():
    x = _images()
    averaged = with_test_time_augmentation(torch.nn.Identity(), "flip")
    assert torch.equal(averaged(x), (x + x.flip(2)) / 2)


def test_logits_are_averaged_as_probabilities():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 4))
    x = _images()
    averaged = with_test_time_augmentation(network, "flip", outputs="logits")(x)
    expected = (torch.softmax(network(x), -1) + torch.softmax(network(x.flip(2)), -1)) / 2
    assert torch.equal(averaged, expected)  # the recipes' former flip average, bit for bit
    torch.testing.assert_close(averaged.sum(-1), torch.ones(4))


def test_functions_and_names_mix_and_the_mean_is_over_all_views():
    x = _images()
    views = ["identity", lambda batch: batch * 3, "vertical_flip"]
    averaged = with_test_time_augmentation(torch.nn.Identity(), views)(x)
    torch.testing.assert_close(averaged, (x + 3 * x + x.flip(1)) / 3)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"transforms": "rotate"}, "received transform='rotate'.*Fix"),
        ({"transforms": []}, "expected a non-empty list of transforms"),
        ({"transforms": ["identity", 3]}, "received transform=3"),
        ({"outputs": "log_probabilities"}, "received outputs='log_probabilities'"),
        ({"data_format": "nchw"}, "received data_format='nchw'"),
    ],
)
def test_bad_arguments_fail_up_front(arguments, message):
    with pytest.raises(ConfigError, match=message):
        with_test_time_augmentation(torch.nn.Identity(), **arguments)


def _softmax_model() -> models.Sequential:
    torch.manual_seed(0)
    return models.Sequential(
        [layers.Flatten(input_shape=(3, 5, 2)), layers.Dense(4, activation="softmax")]
    )


def test_predict_with_flip_averages_the_models_probabilities():
    model = _softmax_model()
    x = _images(n=10)
    with torch.no_grad():
        expected = (model(x) + model(x.flip(2))) / 2  # probabilities: a softmax model
    predicted = model.predict(x, batch_size=4, tta="flip")
    torch.testing.assert_close(predicted, expected)
    assert not torch.allclose(predicted, model.predict(x))  # the mirror image changed something
    as_numpy = model.predict(x.numpy(), tta=["identity", "horizontal_flip"])
    assert isinstance(as_numpy, np.ndarray)
    np.testing.assert_allclose(as_numpy, expected.numpy(), rtol=1e-6, atol=1e-7)


def test_predict_with_flip_works_on_a_compiled_model():
    model = _softmax_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    x = _images(n=6)
    with torch.no_grad():
        expected = (model(x) + model(x.flip(2))) / 2
    torch.testing.assert_close(model.predict(x, tta="flip"), expected)
