"""BatchNormalization and LayerNormalization against torch.nn.BatchNorm / F.layer_norm."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.layers import BatchNormalization, LayerNormalization


def test_batch_norm_channels_last_matches_batchnorm2d_in_train_and_eval():
    torch.manual_seed(0)
    layer = BatchNormalization()  # Keras momentum 0.99 == torch momentum 0.01; epsilon 1e-3
    reference = nn.BatchNorm2d(3, momentum=0.01, eps=1e-3)
    for _ in range(3):
        x = torch.randn(4, 5, 6, 3) * 2 + 1
        y = layer(x)
        expected = reference(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.running_mean, reference.running_mean)
    # Keras' moving variance follows the biased batch variance; torch's the unbiased one.
    torch.manual_seed(0)
    variance = torch.ones(3)
    for _ in range(3):
        x = torch.randn(4, 5, 6, 3) * 2 + 1
        variance = 0.99 * variance + 0.01 * x.var((0, 1, 2), unbiased=False)
    torch.testing.assert_close(layer.running_var, variance)
    reference.running_var.copy_(variance)
    layer.eval(), reference.eval()
    x = torch.randn(4, 5, 6, 3)
    expected = reference(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_batch_norm_2d_input_and_channels_first_axis():
    torch.manual_seed(0)
    x = torch.randn(16, 4)
    expected = nn.BatchNorm1d(4, momentum=0.01, eps=1e-3)(x)
    torch.testing.assert_close(BatchNormalization()(x), expected, atol=1e-5, rtol=1e-5)
    x = torch.randn(4, 3, 5, 5)
    layer = BatchNormalization(axis=1, momentum=0.9, center=False, scale=False)
    reference = nn.BatchNorm2d(3, momentum=0.1, eps=1e-3, affine=False)
    torch.testing.assert_close(layer(x), reference(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(layer.running_var, 0.9 + 0.1 * x.var((0, 2, 3), unbiased=False))
    assert list(dict(layer.named_parameters())) == []


def test_batch_norm_state_dict_holds_moving_statistics():
    layer = BatchNormalization()
    layer(torch.randn(8, 4))
    assert set(layer.state_dict()) == {"weight", "bias", "running_mean", "running_var"}


def test_layer_norm_matches_f_layer_norm():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    layer = LayerNormalization(gamma_initializer="random_normal", beta_initializer="ones")
    y = layer(x)
    torch.testing.assert_close(y, F.layer_norm(x, (8,), layer.weight, layer.bias, 1e-3))
    trailing = LayerNormalization(axis=(-2, -1))
    torch.testing.assert_close(trailing(x), F.layer_norm(x, (5, 8), eps=1e-3))
    assert trailing.weight.shape == (5, 8)


def test_layer_norm_over_a_non_trailing_axis():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 6)
    y = LayerNormalization(axis=1)(x)
    mean = x.mean(1, keepdim=True)
    variance = x.var(1, unbiased=False, keepdim=True)
    torch.testing.assert_close(y, (x - mean) / torch.sqrt(variance + 1e-3), atol=1e-6, rtol=1e-5)


def test_normalization_config_round_trip_gives_same_output_shape():
    x = torch.randn(4, 3, 5, 2)
    for layer in [BatchNormalization(axis=1, momentum=0.9), LayerNormalization(axis=[2, 3])]:
        assert type(layer)(**layer.get_config())(x).shape == layer(x).shape


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: BatchNormalization(momentum=1.5), "momentum in \\(0, 1.0\\), received"),
        (lambda: BatchNormalization(epsilon=0), "expected a positive number, received epsilon=0"),
        (lambda: BatchNormalization(axis="channels"), "axis must be an integer"),
        (lambda: LayerNormalization(axis=[]), "received axis=\\[\\]"),
        (lambda: BatchNormalization(gamma_initializer="one"), "ones"),
    ],
)
def test_invalid_normalization_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_normalization_axis_out_of_range_raises_shape_error():
    with pytest.raises(ShapeError, match="axis=3.*per-sample shape \\(4,\\)"):
        BatchNormalization(axis=3)(torch.randn(2, 4))
    with pytest.raises(ShapeError, match="axis 0 is the batch"):
        LayerNormalization(axis=0)(torch.randn(2, 4))
