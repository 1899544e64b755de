"""Pooling layers against torch pooling and a brute-force TensorFlow "same" reference."""

import math

import pytest
import torch
import torch.nn.functional as F

from ember.errors import ConfigError, ShapeError
from ember.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    LPPooling1D,
    LPPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
    MinPooling1D,
    MinPooling2D,
)


def nhwc_reference(x, function):
    return function(x.permute(0, 3, 1, 2).contiguous()).permute(0, 2, 3, 1)


def tf_same_pool(x, pool, stride, reduce):
    """TensorFlow "same" pooling over NHWC by loops: windows clipped to the real pixels."""
    n, height, width, channels = x.shape
    out_h, out_w = math.ceil(height / stride), math.ceil(width / stride)
    top = max((out_h - 1) * stride + pool - height, 0) // 2
    left = max((out_w - 1) * stride + pool - width, 0) // 2
    y = torch.empty(n, out_h, out_w, channels)
    for i in range(out_h):
        for j in range(out_w):
            h0, w0 = i * stride - top, j * stride - left
            window = x[:, max(h0, 0) : h0 + pool, max(w0, 0) : w0 + pool]
            y[:, i, j] = reduce(window.reshape(n, -1, channels))
    return y


def test_max_pooling_2d_valid_matches_max_pool2d():
    x = torch.randn(2, 9, 8, 3)
    y = MaxPooling2D((3, 2), strides=(2, 2))(x)
    torch.testing.assert_close(y, nhwc_reference(x, lambda v: F.max_pool2d(v, (3, 2), 2)))
    assert y.is_contiguous()


@pytest.mark.parametrize("size, pool, stride", [(7, 2, 2), (8, 3, 2), (7, 4, 2), (9, 3, 1)])
def test_same_pooling_matches_tensorflow_reference(size, pool, stride):
    torch.manual_seed(0)
    x = torch.randn(2, size, size + 1, 3)
    cases = [
        (MaxPooling2D, lambda w: w.amax(1)),
        (AveragePooling2D, lambda w: w.mean(1)),  # padding left out of the mean
        (MinPooling2D, lambda w: w.amin(1)),
    ]
    for layer_class, reduce in cases:
        y = layer_class(pool, strides=stride, padding="same")(x)
        assert y.shape[1:3] == (math.ceil(size / stride), math.ceil((size + 1) / stride))
        expected = tf_same_pool(x, pool, stride, reduce)
        torch.testing.assert_close(y, expected, atol=1e-6, rtol=1e-5)


def test_min_pooling_is_minus_max_pool_of_minus_x():
    x = torch.randn(2, 8, 8, 3)
    expected = nhwc_reference(x, lambda v: -F.max_pool2d(-v, 2))
    torch.testing.assert_close(MinPooling2D(2)(x), expected)
    x1 = torch.randn(2, 10, 3)
    expected1 = -F.max_pool1d(-x1.transpose(1, 2), 2).transpose(1, 2)
    torch.testing.assert_close(MinPooling1D(2)(x1), expected1)


def test_pooling_1d_matches_torch_1d_pooling():
    x = torch.randn(2, 11, 4)
    channels_first = x.transpose(1, 2)
    y = MaxPooling1D(3, strides=2)(x)
    torch.testing.assert_close(y, F.max_pool1d(channels_first, 3, 2).transpose(1, 2))
    y = AveragePooling1D(2)(x)
    torch.testing.assert_close(y, F.avg_pool1d(channels_first, 2).transpose(1, 2))
    assert y.shape == (2, 5, 4) and y.is_contiguous()


def test_lp_pooling_matches_lp_pool():
    x = torch.rand(2, 8, 8, 3)  # non-negative: an odd power of a negative sum has no real root
    y = LPPooling2D(power=3, pool_size=2)(x)
    torch.testing.assert_close(y, nhwc_reference(x, lambda v: F.lp_pool2d(v, 3, 2)))
    x1 = torch.randn(2, 9, 3)
    y1 = LPPooling1D(pool_size=3)(x1)
    torch.testing.assert_close(y1, F.lp_pool1d(x1.transpose(1, 2), 2, 3).transpose(1, 2))
    # "same" pads with zeros, which add nothing: (sum x^2)^(1/2) over the real pixels.
    x_pos = torch.rand(1, 3, 3, 1)
    y_same = LPPooling2D(pool_size=2, padding="same")(x_pos)
    torch.testing.assert_close(y_same[0, 1, 1, 0], x_pos[0, 2, 2, 0])


def test_channels_first_pooling_and_3d():
    x = torch.randn(2, 3, 8, 8)
    y = AveragePooling2D(2, data_format="channels_first")(x)
    torch.testing.assert_close(y, F.avg_pool2d(x, 2))
    x3 = torch.randn(1, 4, 6, 8, 2)
    y3 = MaxPooling3D(2)(x3)
    expected = F.max_pool3d(x3.permute(0, 4, 1, 2, 3), 2).permute(0, 2, 3, 4, 1)
    torch.testing.assert_close(y3, expected)


def test_global_pools_match_mean_and_amax():
    x = torch.randn(2, 5, 6, 3)
    torch.testing.assert_close(GlobalAveragePooling2D()(x), x.mean((1, 2)))
    torch.testing.assert_close(GlobalMaxPooling2D()(x), x.amax((1, 2)))
    assert GlobalMaxPooling2D(keepdims=True)(x).shape == (2, 1, 1, 3)
    first = GlobalAveragePooling2D(data_format="channels_first")(x)
    torch.testing.assert_close(first, x.mean((2, 3)))
    x1 = torch.randn(2, 7, 4)
    torch.testing.assert_close(GlobalAveragePooling1D()(x1), x1.mean(1))
    torch.testing.assert_close(GlobalMaxPooling1D()(x1), x1.amax(1))


def test_pooling_config_round_trip_gives_same_output_shape():
    x = torch.randn(2, 9, 9, 4)
    for layer in [MaxPooling2D(3, 2, "same"), LPPooling2D(3, 2), GlobalAveragePooling2D()]:
        assert type(layer)(**layer.get_config())(x).shape == layer(x).shape


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MaxPooling2D(0), "received pool_size=0"),
        (lambda: MaxPooling2D(2, strides=(1, 0)), "received strides=\\(1, 0\\)"),
        (lambda: AveragePooling2D(2, padding="full"), "'valid', 'same', received padding='full'"),
        (lambda: GlobalMaxPooling2D(data_format="nhwc"), "'channels_last', 'channels_first'"),
        (lambda: LPPooling2D(power=0), "expected a positive power"),
    ],
)
def test_invalid_pooling_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_pooling_wrong_rank_raises_shape_error():
    with pytest.raises(ShapeError, match="\\(height, width, channels\\), received \\(8, 8\\)"):
        MaxPooling2D()(torch.randn(2, 8, 8))
