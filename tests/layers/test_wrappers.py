"""TimeDistributed and Lambda against Keras 3 (torch backend), saving, and errors."""

import os

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, SaveError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _random(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def _keras(layer, x):
    return layer(x.clone()).detach().cpu().numpy()


def test_time_distributed_dense_with_keras_weights_equals_keras():
    x = _random(2, 5, 3)
    ours = layers.TimeDistributed(layers.Dense(4, activation="tanh"))
    ours(x)
    theirs = keras.layers.TimeDistributed(keras.layers.Dense(4, activation="tanh"))
    theirs.build((None, 5, 3))
    dense = ours.layer
    theirs.set_weights([dense.weight.detach().T.numpy(), dense.bias.detach().numpy()])
    np.testing.assert_allclose(ours(x).detach().numpy(), _keras(theirs, x), atol=1e-6)


def test_time_distributed_conv2d_with_keras_weights_equals_keras():
    x = _random(2, 3, 6, 6, 2)  # 3 frames of 6x6x2
    ours = layers.TimeDistributed(layers.Conv2D(4, 3, padding="same", strides=2))
    ours(x)
    theirs = keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, padding="same", strides=2))
    theirs.build((None, 3, 6, 6, 2))
    conv = ours.layer
    kernel = conv.weight.detach().permute(2, 3, 1, 0).numpy()  # (out, in, h, w) -> (h, w, in, out)
    theirs.set_weights([kernel, conv.bias.detach().numpy()])
    result = ours(x).detach().numpy()
    assert result.shape == (2, 3, 3, 3, 4)
    np.testing.assert_allclose(result, _keras(theirs, x), atol=1e-5)


def test_time_distributed_saves_and_loads_inside_sequential(tmp_path):
    model = models.Sequential(
        [
            layers.TimeDistributed(layers.Dense(4, kernel_regularizer="l2"), input_shape=(5, 3)),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    x = _random(3, 5, 3)
    model.save(tmp_path / "model")
    loaded = models.load_model(tmp_path / "model", compile=False)
    torch.testing.assert_close(loaded(x), model(x))
    wrapped = loaded.layers[0].layer
    assert type(wrapped) is layers.Dense and wrapped.kernel_regularizer.l2 == 0.01


def test_time_distributed_config_round_trip_and_mask():
    layer = layers.TimeDistributed(layers.Dense(3, activation="relu"), name="per_step")
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["units"] == 3
    clone = layers.TimeDistributed(**config)
    assert clone.layer.units == 3 and clone.name == "per_step"
    mask = torch.tensor([[True, False]])
    assert layer.compute_mask(torch.zeros(1, 2, 4), mask) is mask


def test_time_distributed_errors():
    with pytest.raises(ConfigError, match="wraps an ember layer, received layer=3"):
        layers.TimeDistributed(3)
    with pytest.raises(ShapeError, match=r"\(batch, steps, \.\.\.\).*per-sample shape \(5,\)"):
        layers.TimeDistributed(layers.Dense(2))(torch.zeros(2, 5))


def test_lambda_equals_keras_and_passes_arguments():
    x = _random(2, 3)
    ours = layers.Lambda(lambda t: t**2 + 1)
    np.testing.assert_allclose(ours(x).numpy(), _keras(keras.layers.Lambda(lambda t: t**2 + 1), x))
    scaled = layers.Lambda(lambda t, factor: t * factor, arguments={"factor": 3.0})
    theirs = keras.layers.Lambda(lambda t, factor: t * factor, arguments={"factor": 3.0})
    np.testing.assert_allclose(scaled(x).numpy(), _keras(theirs, x))
    clone = layers.Lambda(**scaled.get_config())
    torch.testing.assert_close(clone(x), x * 3)


def test_lambda_takes_lists_training_and_masks():
    a, b = _random(2, 3), _random(2, 3) + 1
    torch.testing.assert_close(layers.Lambda(lambda pair: pair[0] * pair[1])([a, b]), a * b)
    noisy = layers.Lambda(lambda t, training: t + 1 if training else t)
    assert noisy.train()(a).equal(a + 1) and noisy.eval()(a).equal(a)
    masked = layers.Lambda(lambda t, mask: t * mask.unsqueeze(-1), mask=lambda t, m: m[:, :1])
    mask = torch.tensor([[True, False, True]])
    x = torch.ones(1, 3, 2)
    assert masked(x, mask=mask)[0, :, 0].tolist() == [1.0, 0.0, 1.0]
    assert masked.uses_mask and masked.compute_mask(x, mask).tolist() == [[True]]


def test_lambda_in_sequential_runs_but_cannot_be_saved(tmp_path):
    model = models.Sequential([layers.Dense(2, input_shape=(3,)), layers.Lambda(torch.tanh)])
    x = _random(4, 3)
    dense = model.layers[0]
    torch.testing.assert_close(model(x), torch.tanh(x @ dense.weight.T + dense.bias))
    with pytest.raises(SaveError, match=r"cannot save lambda\.function=.*save_weights"):
        model.save(tmp_path / "model")
    model.save_weights(tmp_path / "weights.safetensors")  # the fix the message names works


def test_lambda_errors():
    with pytest.raises(ConfigError, match="takes a function, received function=3"):
        layers.Lambda(3)
    with pytest.raises(ConfigError, match="received arguments=\\[1\\]"):
        layers.Lambda(torch.tanh, arguments=[1])


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras' own
def test_time_distributed_batch_norm_normalises_each_step_while_training_as_keras():
    # Steps with different scales: normalised together they would not each have mean 0.
    x = _random(8, 3, 4) * torch.tensor([1.0, 5.0, 20.0]).view(1, 3, 1)
    ours = layers.TimeDistributed(layers.BatchNormalization())
    theirs = keras.layers.TimeDistributed(keras.layers.BatchNormalization())
    ours.train()
    expected = theirs(x.clone(), training=True).detach().cpu().numpy()
    np.testing.assert_allclose(ours(x).detach().numpy(), expected, atol=1e-5)
    inner = ours.layer
    moving_mean = keras.ops.convert_to_numpy(theirs.layer.moving_mean)
    moving_variance = keras.ops.convert_to_numpy(theirs.layer.moving_variance)
    np.testing.assert_allclose(inner.running_mean.numpy(), moving_mean, atol=1e-6)
    np.testing.assert_allclose(inner.running_var.numpy(), moving_variance, atol=1e-5)
    ours.eval()  # inference: the moving averages, all steps in one call
    np.testing.assert_allclose(
        ours(x).detach().numpy(),
        theirs(x.clone(), training=False).detach().cpu().numpy(),
        atol=1e-5,
    )
