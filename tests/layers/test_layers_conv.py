"""Conv layers against direct torch convolutions on NCHW tensors, with TensorFlow's padding."""

import pytest
import torch
import torch.nn.functional as F

from ember.errors import ConfigError, ShapeError
from ember.layers import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    DepthwiseConv2D,
    SeparableConv2D,
)

ATOL, RTOL = 1e-5, 1e-5


def nhwc_reference(x, function):
    """Runs ``function`` on the NCHW copy of an NHWC tensor and returns NHWC."""
    return function(x.permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1)


def test_conv2d_valid_matches_conv2d_on_nchw():
    torch.manual_seed(0)
    x = torch.randn(2, 9, 8, 3)
    layer = Conv2D(5, (3, 2), bias_initializer="random_normal")
    y = layer(x)
    expected = nhwc_reference(x, lambda v: F.conv2d(v, layer.weight, layer.bias))
    assert y.shape == (2, 7, 7, 5)
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)


def test_conv2d_same_stride_2_pads_the_odd_pixel_at_bottom_right():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 7, 3)
    layer = Conv2D(4, 3, strides=2, padding="same")
    # TensorFlow: height 8 -> 4 outputs, pad (0 top, 1 bottom); width 7 -> 4, pad (1, 1).
    y = layer(x)
    expected = nhwc_reference(
        x, lambda v: F.conv2d(F.pad(v, (1, 1, 0, 1)), layer.weight, layer.bias, stride=2)
    )
    assert y.shape == (2, 4, 4, 4)
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("size", [5, 6, 7, 8, 9, 16, 17])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
def test_conv2d_same_output_size_is_ceil_of_input_over_stride(size, stride, kernel):
    y = Conv2D(2, kernel, strides=stride, padding="same")(torch.randn(1, size, size + 1, 1))
    assert y.shape == (1, -(-size // stride), -(-(size + 1) // stride), 2)


def test_conv2d_same_with_dilation_matches_symmetric_padding():
    torch.manual_seed(0)
    x = torch.randn(2, 10, 10, 3)
    layer = Conv2D(4, 3, padding="same", dilation_rate=2)
    y = layer(x)
    expected = nhwc_reference(
        x, lambda v: F.conv2d(v, layer.weight, layer.bias, padding=2, dilation=2)
    )
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)


def test_conv2d_groups_matches_grouped_conv():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 6, 4)
    layer = Conv2D(6, 3, groups=2)
    y = layer(x)
    assert layer.weight.shape == (6, 2, 3, 3)
    expected = nhwc_reference(x, lambda v: F.conv2d(v, layer.weight, layer.bias, groups=2))
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)


def test_conv2d_channels_first_matches_conv2d():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    layer = Conv2D(4, 3, padding="same", data_format="channels_first")
    y = layer(x)
    torch.testing.assert_close(y, F.conv2d(x, layer.weight, layer.bias, padding=1))
    assert y.is_contiguous()


def test_conv2d_on_nhwc_input_makes_no_copy():
    layer = Conv2D(8, 3, padding="same")
    y = layer(torch.randn(2, 12, 12, 4))
    assert layer.weight.is_contiguous(memory_format=torch.channels_last)
    assert y.is_contiguous()  # NHWC, contiguous ...
    assert y.permute(0, 3, 1, 2).is_contiguous(
        memory_format=torch.channels_last
    )  # ... = conv output


def test_conv1d_matches_conv1d_and_causal_pads_only_the_start():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 3)
    layer = Conv1D(4, 3, strides=2, bias_initializer="ones")
    y = layer(x)
    expected = F.conv1d(x.transpose(1, 2), layer.weight, layer.bias, stride=2).transpose(1, 2)
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)
    assert y.is_contiguous()

    causal = Conv1D(4, 3, padding="causal", dilation_rate=2)
    y = causal(x)
    padded = F.pad(x.transpose(1, 2), (4, 0))  # (kernel - 1) * dilation steps on the left only
    expected = F.conv1d(padded, causal.weight, causal.bias, dilation=2).transpose(1, 2)
    assert y.shape == (2, 12, 4)
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)


def test_conv3d_same_matches_conv3d():
    torch.manual_seed(0)
    x = torch.randn(1, 5, 6, 7, 2)
    layer = Conv3D(3, 3, padding="same")
    y = layer(x)
    expected = F.conv3d(x.permute(0, 4, 1, 2, 3), layer.weight, layer.bias, padding=1)
    torch.testing.assert_close(y, expected.permute(0, 2, 3, 4, 1), atol=ATOL, rtol=RTOL)


def test_depthwise_conv2d_matches_grouped_conv_and_keras_fans():
    torch.manual_seed(0)
    x = torch.randn(2, 7, 7, 4)
    layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False)
    y = layer(x)
    assert layer.weight.shape == (8, 1, 3, 3) and y.shape == (2, 7, 7, 8)
    expected = nhwc_reference(x, lambda v: F.conv2d(v, layer.weight, padding=1, groups=4))
    torch.testing.assert_close(y, expected, atol=ATOL, rtol=RTOL)
    # Keras' glorot_uniform limit for a (3, 3, 4, 2) depthwise kernel: sqrt(6 / (36 + 18)).
    assert layer.weight.abs().max() <= (6 / 54) ** 0.5


def test_separable_conv2d_is_depthwise_then_pointwise():
    torch.manual_seed(0)
    x = torch.randn(2, 9, 9, 3)
    layer = SeparableConv2D(5, 3, strides=2, padding="same", bias_initializer="ones")
    y = layer(x)

    def reference(v):
        depthwise = F.conv2d(v, layer.depthwise_weight, stride=2, padding=1, groups=3)
        return F.conv2d(depthwise, layer.pointwise_weight, layer.bias)

    assert y.shape == (2, 5, 5, 5)
    torch.testing.assert_close(y, nhwc_reference(x, reference), atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize(
    "kernel, padding, expected_size, crop",
    [
        (3, "valid", 11, slice(0, 11)),  # (5 - 1) * 2 + 3
        (3, "same", 10, slice(0, 10)),  # 5 * 2; the odd extra pixel is dropped at the end
        (4, "same", 10, slice(1, 11)),  # crop one pixel at each side of the 12 touched
    ],
)
def test_conv2d_transpose_matches_cropped_full_transpose(kernel, padding, expected_size, crop):
    torch.manual_seed(0)
    x = torch.randn(2, 5, 5, 3)
    layer = Conv2DTranspose(4, kernel, strides=2, padding=padding, bias_initializer="ones")
    y = layer(x)
    full = nhwc_reference(x, lambda v: F.conv_transpose2d(v, layer.weight, layer.bias, stride=2))
    assert y.shape == (2, expected_size, expected_size, 4)
    torch.testing.assert_close(y, full[:, crop, crop], atol=ATOL, rtol=RTOL)
    assert y.is_contiguous()


def test_conv2d_transpose_kernel_smaller_than_stride_and_output_padding():
    x = torch.randn(1, 4, 4, 2)
    assert Conv2DTranspose(3, 1, strides=2, padding="same")(x).shape == (1, 8, 8, 3)
    assert Conv2DTranspose(3, 1, strides=2)(x).shape == (1, 8, 8, 3)
    # Keras: (4 - 1) * 2 + 3 - 2 * 1 + 1 = 8 with padding="same", output_padding=1.
    layer = Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1)
    assert layer(x).shape == (1, 8, 8, 3)
    with pytest.raises(ConfigError, match="output_padding must be smaller than strides"):
        Conv2DTranspose(3, 3, strides=2, output_padding=2)


def test_conv2d_gradcheck_float64_same_stride_2():
    torch.manual_seed(0)
    layer = Conv2D(2, 3, strides=2, padding="same")
    layer.build_from_input(torch.zeros(1, 5, 4, 2))
    layer.double()
    x = torch.randn(2, 5, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-6)


def test_conv_config_round_trip_gives_same_output_shape():
    x = torch.randn(2, 9, 9, 4)
    for layer in [
        Conv2D(6, 3, strides=2, padding="same", groups=2, kernel_regularizer="l2"),
        DepthwiseConv2D(3, depth_multiplier=2),
        SeparableConv2D(5, (3, 1), padding="same"),
        Conv2DTranspose(3, 3, strides=2, padding="same", kernel_initializer="he_normal"),
    ]:
        clone = type(layer)(**layer.get_config())
        assert clone(x).shape == layer(x).shape


def test_conv_regularization_loss_is_closed_form():
    layer = Conv2D(3, 3, kernel_regularizer="l2", bias_regularizer="l1", bias_initializer="ones")
    layer(torch.randn(1, 5, 5, 2))
    expected = 0.01 * layer.weight.square().sum() + 0.01 * 3
    torch.testing.assert_close(layer.regularization_loss(), expected)
    assert Conv2D(3, 3).regularization_loss() is None


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Conv2D(0, 3), "expected a positive integer, received filters=0"),
        (lambda: Conv2D(4, 0), "received kernel_size=0"),
        (lambda: Conv2D(4, (3, 3, 3)), "received kernel_size=\\(3, 3, 3\\)"),
        (lambda: Conv2D(4, 3, padding="full"), "'valid', 'same', received padding='full'"),
        (lambda: Conv2D(4, 3, padding="causal"), "received padding='causal'"),
        (lambda: Conv2D(4, 3, data_format="NHWC"), "'channels_last', 'channels_first'"),
        (lambda: Conv2D(4, 3, kernel_initializer="glorot"), "glorot_uniform"),
        (lambda: Conv2D(3, 3, groups=2), "filters must be divisible by groups"),
    ],
)
def test_invalid_conv_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_conv_input_shape_errors_are_shape_errors():
    with pytest.raises(ShapeError, match="per-sample shape \\(height, width, channels\\)"):
        Conv2D(4, 3)(torch.randn(2, 8, 8))
    with pytest.raises(ShapeError, match="input_shape"):
        Conv2D(4, 3, input_shape=(8, 8, 3))(torch.randn(2, 8, 8, 1))
    with pytest.raises(ShapeError, match="divisible by 2, received 3 channels"):
        Conv2D(4, 3, groups=2)(torch.randn(2, 8, 8, 3))
