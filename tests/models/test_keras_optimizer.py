"""Keras' ``model.optimizer``: the compiled optimizer's learning rate, read and set live; and the
compiled optimizer saved in a ``.keras`` file as Keras writes it, so both frameworks reload the
model compiled."""

import os

import numpy as np
import pytest
import torch

import ember
from ember.errors import ConfigError
from ember.models import load_model

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (after the backend is chosen)

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    # ember's files carry no optimizer state (it starts afresh), which Keras says on loading
    pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer:UserWarning"),
]

X = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")


def model_compiled_with(optimizer, metrics=None):
    torch.manual_seed(0)
    model = ember.Sequential([ember.layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizer, loss="mse", metrics=metrics, device="cpu")
    return model


def test_learning_rate_reads_the_compiled_rate_then_the_one_training_uses():
    assert ember.Sequential([ember.layers.Dense(1)]).optimizer is None  # before compile
    model = model_compiled_with(ember.optimizers.SGD(learning_rate=0.1))
    assert model.optimizer.learning_rate == 0.1
    model.fit(X, Y, batch_size=8, verbose=0)
    model.optimizer.learning_rate = np.float32(0.25)  # what a Keras schedule may hand back
    assert model.trainer.optimizer.param_groups[0]["lr"] == 0.25
    model.optimizer.learning_rate = torch.tensor(0.5, dtype=torch.float64)
    assert model.optimizer.learning_rate == 0.5
    assert model.optimizer.iterations == model.trainer.global_step == 2


def test_a_rate_set_between_fits_is_the_rate_of_the_next_steps():
    model = model_compiled_with(ember.optimizers.SGD(learning_rate=0.1))
    model.fit(X, Y, batch_size=16, verbose=0)
    model.optimizer.learning_rate = 0.0
    weights = [w.copy() for w in model.get_weights()]
    model.fit(X, Y, batch_size=16, verbose=0)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)  # a zero rate moves nothing
    model.optimizer.learning_rate = 0.5
    gradients = torch.autograd.grad(
        torch.nn.functional.mse_loss(model(torch.from_numpy(X)), torch.from_numpy(Y)),
        [model.layers[0].weight, model.layers[0].bias],
    )
    expected = [p.detach() - 0.5 * g for p, g in zip(model.network.parameters(), gradients)]
    model.fit(X, Y, batch_size=16, shuffle=False, verbose=0)
    for parameter, value in zip(model.network.parameters(), expected):
        torch.testing.assert_close(parameter.detach(), value)


def test_setting_the_rate_when_it_cannot_apply_is_an_error():
    model = model_compiled_with("sgd")
    with pytest.raises(ConfigError, match="before the first fit.*Fix: set it from a callback"):
        model.optimizer.learning_rate = 0.01
    model.fit(X, Y, verbose=0)
    with pytest.raises(ConfigError, match="expected a non-negative number, received "):
        model.optimizer.learning_rate = -1.0
    with pytest.raises(ConfigError, match="learning_rate='fast'"):
        model.optimizer.learning_rate = "fast"
    schedule = ember.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    scheduled = model_compiled_with(ember.optimizers.SGD(learning_rate=schedule))
    scheduled.fit(X, Y, verbose=0)
    with pytest.raises(ConfigError, match="follows the schedule"):
        scheduled.optimizer.learning_rate = 0.01


def test_a_compiled_optimizer_spec_is_saved_and_both_frameworks_reload_it(tmp_path):
    spec = ember.optimizers.RMSprop(learning_rate=0.1, rho=0.8, clipnorm=1.0)
    model = model_compiled_with(spec, metrics=["mean_absolute_error"])
    model.fit(X, Y, batch_size=8, verbose=0)
    model.save(tmp_path / "model.keras")
    expected = model.evaluate(X, Y, verbose=0)

    again = load_model(tmp_path / "model.keras")
    assert repr(again.optimizer.trainer.optimizer_spec) == repr(spec)
    np.testing.assert_allclose(again.evaluate(X, Y, verbose=0), expected, rtol=1e-6)
    history = again.fit(X, Y, batch_size=8, verbose=0)
    assert list(history.history) == ["loss", "mean_absolute_error"]

    in_keras = keras.models.load_model(tmp_path / "model.keras")
    optimizer = in_keras.optimizer
    assert type(optimizer).__name__ == "RMSprop"
    assert (float(optimizer.learning_rate), optimizer.rho, optimizer.clipnorm) == (
        pytest.approx(0.1),
        0.8,
        1.0,
    )
    np.testing.assert_allclose(in_keras.evaluate(X, Y, verbose=0), expected, rtol=1e-5)


def test_an_optimizer_keras_cannot_name_saves_the_model_uncompiled(tmp_path):
    model = model_compiled_with(ember.optimizers.Rprop())
    model.fit(X, Y, verbose=0)
    model.save(tmp_path / "model.keras")
    assert load_model(tmp_path / "model.keras").optimizer is None


def test_a_keras_metric_object_keeps_its_name_in_ember(tmp_path):
    keras.utils.set_random_seed(0)
    trained = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    metrics = [keras.metrics.MeanAbsoluteError(), "mse"]
    trained.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", metrics=metrics)
    keras_history = trained.fit(X, Y, batch_size=8, verbose=0)
    trained.save(tmp_path / "model.keras")
    history = load_model(tmp_path / "model.keras").fit(X, Y, batch_size=8, verbose=0)
    assert list(history.history) == list(keras_history.history)
    assert list(history.history) == ["loss", "mean_absolute_error", "mse"]
