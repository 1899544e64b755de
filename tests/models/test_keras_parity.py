"""Keras 3 (torch backend) is the reference: each Keras-named layer built in Keras and in ember with
the same config, Keras' weights moved in with set_weights, gives the same outputs within 1e-5;
get_weights/set_weights speak Keras' order and layouts, model by model, both ways.

Recurrent layers, Bidirectional and attention: tests/layers/test_keras_parity_recurrent.py.
"""

import os

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.layers.weight_arrays import get_weights, set_weights


def torch_global_state() -> dict:
    """What other tests rely on and a library could change at import."""
    return {
        "default_dtype": torch.get_default_dtype(),
        "default_device": str(torch.get_default_device()),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "grad": torch.is_grad_enabled(),
        "inference_mode": torch.is_inference_mode_enabled(),
        "cudnn": (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic),
        "matmul_precision": torch.get_float32_matmul_precision(),
    }


TORCH_STATE_BEFORE_KERAS = torch_global_state()
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (after the backend is chosen, and after the snapshot)

TOLERANCE = 1e-5
# Keras 3.15 converts its tensors with np.array(x, copy=False), which numpy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_keras_runs_on_torch_and_leaves_torch_global_state_alone():
    assert keras.backend.backend() == "torch"
    keras.layers.Dense(2)(np.zeros((1, 3), "float32"))  # a call too, not only the import
    assert torch_global_state() == TORCH_STATE_BEFORE_KERAS


# -- moving a Keras layer's weights into the same ember layer -----------------------------------
def random_arrays(keras_object, seed=0):
    """Random arrays for a Keras layer's or model's weights, variances positive."""
    rng = np.random.default_rng(seed)
    return [
        (
            rng.uniform(0.5, 2.0, w.shape) if "variance" in w.name else rng.normal(size=w.shape)
        ).astype("float32")
        for w in keras_object.weights
    ]


def randomize(keras_object, seed=0):
    """Random Keras weights, so that a mixed-up array changes outputs."""
    keras_object.set_weights(random_arrays(keras_object, seed))


def moved(keras_layer, ember_layer, x, seed=0):
    """Builds both on ``x`` in inference mode, randomizes Keras' weights and moves them to ember;
    ember's get_weights must then give Keras' arrays back exactly (the inverse layout)."""
    keras_layer(x, training=False)
    with torch.no_grad():
        ember_layer.eval()(torch.as_tensor(x))
    randomize(keras_layer, seed)
    set_weights(ember_layer, keras_layer.get_weights())
    for ours, theirs in zip(get_weights(ember_layer), keras_layer.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def pair(name, *args, **config):
    """The Keras layer and the ember layer of that name, with the same arguments."""
    return getattr(keras.layers, name)(*args, **config), getattr(layers, name)(*args, **config)


def assert_parity(keras_layer, ember_layer, x, training=False):
    moved(keras_layer, ember_layer, x)
    expected = keras.ops.convert_to_numpy(keras_layer(x, training=training))
    with torch.no_grad():
        actual = ember_layer.train(training)(torch.as_tensor(x)).numpy()
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)


def images(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# -- core and convolutions ------------------------------------------------------------------------
def test_dense_kernel_moves_transposed_even_when_square():
    # A square kernel fits untransposed too: only Keras' layout gives Keras' numbers.
    assert_parity(*pair("Dense", 4), images(3, 4))
    assert_parity(*pair("Dense", 5, use_bias=False), images(3, 2, 4))


@pytest.mark.parametrize("kernel", [2, 3, 4])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_padding_arithmetic_with_even_and_odd_kernels(kernel, strides, padding):
    config = {"kernel_size": kernel, "strides": strides, "padding": padding}
    assert_parity(*pair("Conv2D", 4, **config), images(2, 9, 8, 3))


@pytest.mark.parametrize(
    "config",
    [
        {"kernel_size": 3, "padding": "same", "dilation_rate": 2},
        {"kernel_size": (2, 3), "strides": (2, 1), "padding": "same"},
        {"kernel_size": 3, "groups": 2},
    ],
)
def test_conv2d_dilation_rectangles_and_groups(config):
    assert_parity(*pair("Conv2D", 6, **config), images(2, 9, 8, 4))


@pytest.mark.parametrize(
    "config",
    [
        {"kernel_size": 4, "strides": 2, "padding": "same"},
        {"kernel_size": 3, "strides": 3, "padding": "valid"},
        {"kernel_size": 3, "padding": "causal", "dilation_rate": 2},
    ],
)
def test_conv1d(config):
    assert_parity(*pair("Conv1D", 5, **config), images(2, 11, 3))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv3d(padding):
    config = {"kernel_size": 2, "strides": 2, "padding": padding}
    assert_parity(*pair("Conv3D", 4, **config), images(2, 5, 6, 7, 3))


@pytest.mark.parametrize(
    "config",
    [
        {"kernel_size": 3, "strides": 2, "padding": "same"},
        {"kernel_size": 4, "strides": 2, "padding": "same"},
        {"kernel_size": 3, "strides": 2, "padding": "valid"},
        {"kernel_size": 2, "strides": 3, "padding": "valid"},
        {"kernel_size": 3, "strides": 1, "padding": "same", "dilation_rate": 2},
        {"kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 0},
        {"kernel_size": 3, "strides": 3, "padding": "valid", "output_padding": 2},
    ],
)
def test_conv2d_transpose_output_sizes_and_values(config):
    assert_parity(*pair("Conv2DTranspose", 4, **config), images(2, 5, 4, 3))


@pytest.mark.parametrize("kernel", [2, 3])
@pytest.mark.parametrize("strides", [1, 2])
def test_depthwise_and_separable_conv2d(kernel, strides):
    config = {"kernel_size": kernel, "strides": strides, "padding": "same", "depth_multiplier": 2}
    x = images(2, 8, 7, 3)
    assert_parity(*pair("DepthwiseConv2D", **config), x)
    assert_parity(*pair("SeparableConv2D", 5, **config), x)


# -- pooling --------------------------------------------------------------------------------------
POOL_INPUTS = {1: (2, 9, 3), 2: (2, 9, 8, 3), 3: (2, 5, 6, 7, 2)}


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["Max", "Average"])
@pytest.mark.parametrize(
    "pool_size, strides, padding",
    [(2, None, "valid"), (3, 2, "valid"), (2, 1, "same"), (3, 2, "same")],
)
def test_pooling(rank, mode, pool_size, strides, padding):
    batch, *spatial, channels = POOL_INPUTS[rank]
    if mode == "Average" and padding == "same" and pool_size == 3:
        # Odd sizes: symmetric padding. Keras 3.15's torch backend pads asymmetric "same" windows
        # by repeating the edge, unlike its JAX and TensorFlow backends, which leave padding out
        # of the mean (fixed upstream in keras-team/keras#23233); ember does the latter, checked
        # by test_asymmetric_same_average_pooling_leaves_padding_out_of_the_mean.
        spatial = [size | 1 for size in spatial]
    x = images(batch, *spatial, channels)
    name = f"{mode}Pooling{rank}D"
    config = {"pool_size": pool_size, "strides": strides, "padding": padding}
    assert_parity(*pair(name, **config), x)


def test_asymmetric_same_average_pooling_leaves_padding_out_of_the_mean():
    # 8 columns, windows of 3, stride 2: TensorFlow's "same" pads one column, at the end only.
    x = images(1, 1, 8, 1)
    padded = np.pad(x[0, 0, :, 0], (0, 1), constant_values=np.nan)
    expected = np.nanmean(np.lib.stride_tricks.sliding_window_view(padded, 3)[::2], axis=1)
    layer = layers.AveragePooling2D((1, 3), strides=(1, 2), padding="same")
    np.testing.assert_allclose(layer(torch.as_tensor(x))[0, 0, :, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("mode", ["Max", "Average"])
def test_global_pooling(rank, mode):
    name = f"Global{mode}Pooling{rank}D"
    x = images(*POOL_INPUTS[rank])
    assert_parity(*pair(name), x)
    assert_parity(*pair(name, keepdims=True), x)


# -- normalization and embeddings -----------------------------------------------------------------
@pytest.mark.parametrize("config", [{}, {"momentum": 0.9, "center": False}, {"scale": False}])
def test_batch_normalization_training_steps_and_moving_statistics(config):
    keras_layer, ember_layer = pair("BatchNormalization", **config)
    moved(keras_layer, ember_layer, images(16, 3, 3, 4))
    ember_layer.train()
    for step in range(3):  # batch statistics out, moving statistics updated, three times
        x = images(16, 3, 3, 4, seed=step) * 2 + 1
        expected = keras.ops.convert_to_numpy(keras_layer(x, training=True))
        np.testing.assert_allclose(
            ember_layer(torch.as_tensor(x)).detach(), expected, atol=TOLERANCE
        )
    for ours, theirs in zip(get_weights(ember_layer), keras_layer.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=TOLERANCE)


def test_batch_normalization_moving_variance_is_the_biased_batch_variance():
    layer = layers.BatchNormalization(momentum=0.9)
    x = torch.randn(16, 3)
    layer(x)
    torch.testing.assert_close(layer.running_var, 0.9 + 0.1 * x.var(0, unbiased=False))


def test_batch_normalization_gradients_in_training_equal_keras():
    keras_layer, ember_layer = pair("BatchNormalization")
    moved(keras_layer, ember_layer, images(8, 3, 4))
    upstream = torch.as_tensor(images(8, 3, 4, seed=4))
    gradients = []
    for layer in (lambda t: keras_layer(t, training=True), ember_layer.train()):
        x = torch.tensor(images(8, 3, 4, seed=3), requires_grad=True)
        (layer(x) * upstream).sum().backward()
        gradients.append(x.grad)
    torch.testing.assert_close(gradients[1], gradients[0], atol=TOLERANCE, rtol=TOLERANCE)


def test_batch_normalization_inference_and_channels_first_axis():
    x = images(4, 3, 5, 5)
    assert_parity(*pair("BatchNormalization"), x)
    assert_parity(*pair("BatchNormalization", axis=1), x)


@pytest.mark.parametrize("axis", [-1, [2, 3], [1, 3]])
def test_layer_normalization(axis):
    assert_parity(*pair("LayerNormalization", axis=axis), images(2, 4, 5, 3))


def test_embedding():
    ids = np.random.default_rng(0).integers(0, 10, (3, 6))
    assert_parity(*pair("Embedding", 10, 4), ids)


# -- whole models: Keras' order, layer by layer, both ways ----------------------------------------
def image_models():
    """The same classifier in Keras and in ember, with a frozen layer and batch normalization."""

    def stack(library, first):
        return [
            first,
            library.Conv2D(4, 4, strides=2, padding="same", activation="relu"),
            library.BatchNormalization(),
            library.MaxPooling2D(2, padding="same"),
            library.DepthwiseConv2D(2, depth_multiplier=2),
            library.SeparableConv2D(3, 2, padding="same"),
            library.Flatten(),
            library.Dense(5, activation="relu"),
            library.Dropout(0.5),
            library.Dense(3, activation="softmax"),
        ]

    keras_model = keras.Sequential(stack(keras.layers, keras.Input((10, 9, 3))))
    ember_model = ember.Sequential(
        stack(layers, layers.Activation("linear", input_shape=(10, 9, 3)))
    )
    for model in (keras_model, ember_model):
        model.layers[-3].trainable = False  # Dense(5)
    return keras_model, ember_model


def test_sequential_weights_move_from_keras_and_back_with_equal_predictions():
    keras_model, ember_model = image_models()
    assert [w.shape for w in ember_model.get_weights()] == [
        tuple(w.shape) for w in keras_model.weights
    ]  # Keras' order: layer by layer, gamma, beta, moving_mean, moving_variance, frozen included
    x = images(4, 10, 9, 3)
    randomize(keras_model)
    ember_model.set_weights(keras_model.get_weights())
    expected = keras.ops.convert_to_numpy(keras_model(x, training=False))
    np.testing.assert_allclose(ember_model.predict(x), expected, atol=TOLERANCE)

    ember_model.set_weights(random_arrays(keras_model, seed=5))  # new weights, from ember to Keras
    keras_model.set_weights(ember_model.get_weights())
    expected = keras.ops.convert_to_numpy(keras_model(x, training=False))
    np.testing.assert_allclose(ember_model.predict(x), expected, atol=TOLERANCE)
