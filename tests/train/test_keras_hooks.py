"""Keras' callback hooks on the engine: every hook called at Keras 3's moments, in Keras 3's
order, with Keras 3's log keys (Keras itself is the reference), and logs whose values are the
running means Keras passes (checked against a plain PyTorch loop and by hand)."""

import copy
import os

import numpy as np
import pytest
import torch

import ember
from ember.errors import ConfigError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (after the backend is chosen)

# Keras 3.15 converts its tensors with np.array(x, copy=False), which numpy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

KERAS_HOOKS = [
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
]


def recorder(base):
    """A callback on ``base`` (Keras' or ember's Callback class) that records, for every Keras
    hook, ``(hook, batch or epoch, sorted log keys)`` in the order they are called."""

    def hook(name):
        if "batch" in name or "epoch" in name:

            def method(self, index, logs=None):
                self.calls.append((name, index, sorted(logs or {})))

        else:

            def method(self, logs=None):
                self.calls.append((name, sorted(logs or {})))

        return method

    namespace = {name: hook(name) for name in KERAS_HOOKS}
    namespace["calls"] = None
    cls = type("Recorder", (base,), namespace)
    instance = cls()
    instance.calls = []
    return instance


def regression_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")


def run_program(framework):
    """The same Keras program under ``framework`` (the ``keras`` module, or ``ember``)."""
    x, y = regression_data(10, 0)  # batches of 4, 4, 2
    x_val, y_val = regression_data(6, 1)  # batches of 4, 2
    model = framework.Sequential([framework.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mean_absolute_error", "mse"])
    callback = recorder(framework.callbacks.Callback)
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x_val, y_val), verbose=0,
              callbacks=[callback])  # fmt: skip
    model.evaluate(x_val, y_val, batch_size=4, verbose=0, callbacks=[callback])
    model.predict(x_val, batch_size=4, verbose=0, callbacks=[callback])
    return callback.calls


def test_every_hook_is_called_as_keras_calls_it_with_its_log_keys():
    expected = run_program(keras)
    assert ("on_test_batch_end", 1, ["loss", "mean_absolute_error", "mse"]) in expected
    assert run_program(ember) == expected


def test_ember_names_are_called_at_the_same_moments_as_keras_names():
    class EmberNames(ember.callbacks.Callback):
        def __init__(self):
            self.calls = []

        def on_evaluate_batch_end(self, batch, logs=None):
            self.calls.append(("on_test_batch_end", batch))

        def on_predict_start(self, logs=None):
            self.calls.append(("on_predict_begin",))

        def on_predict_batch_end(self, batch, logs=None):
            self.calls.append(("on_predict_batch_end", batch))

    x, y = regression_data(10, 0)
    model = ember.Sequential([ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    ours, keras_named = EmberNames(), recorder(ember.callbacks.Callback)
    for callbacks in ([ours], [keras_named]):
        model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=0, callbacks=callbacks)
        model.predict(x, batch_size=4, callbacks=callbacks)
    wanted = {name for name, *_ in ours.calls}
    assert ours.calls == [call[:-1] for call in keras_named.calls if call[0] in wanted]
    assert len(ours.calls) == 3 + 1 + 3  # validation batches, predict start, predict batches


class BatchValues(ember.callbacks.Callback):
    """Reads every batch log as Keras code does (float(...)), and keeps the end-of-pass logs."""

    def __init__(self):
        self.train, self.test, self.outputs = [], [], []
        self.test_end, self.train_end = None, None

    def on_train_batch_end(self, batch, logs=None):
        self.train.append({name: float(value) for name, value in logs.items()})

    def on_test_batch_end(self, batch, logs=None):
        self.test.append({name: float(value) for name, value in logs.items()})

    def on_predict_batch_end(self, batch, logs=None):
        self.outputs.append(logs["outputs"].clone())

    def on_test_end(self, logs=None):
        self.test_end = dict(logs)

    def on_train_end(self, logs=None):
        self.train_end = dict(logs)


def compiled_model(metrics=("mean_absolute_error",)):
    torch.manual_seed(0)
    model = ember.Sequential([ember.layers.Dense(1, input_shape=(3,))])
    model.compile(
        optimizer=ember.optimizers.SGD(learning_rate=0.05),
        loss="mse",
        metrics=list(metrics),
        device="cpu",
    )
    return model


def running_means(values, sizes):
    """Keras' batch logs by hand: after each batch, the sample-weighted mean so far."""
    values, sizes = np.asarray(values, "float64"), np.asarray(sizes, "float64")
    return np.cumsum(values * sizes) / np.cumsum(sizes)


def test_train_batch_logs_are_the_running_means_of_a_plain_torch_loop():
    x, y = regression_data(10, 0)
    model = compiled_model()
    reference = copy.deepcopy(model.network)  # the same initial weights, trained by hand
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05)
    losses, errors, sizes = [], [], []
    for start in range(0, 10, 4):
        inputs, targets = (
            torch.from_numpy(x[start : start + 4]),
            torch.from_numpy(y[start : start + 4]),
        )
        outputs = reference(inputs)
        loss = torch.nn.functional.mse_loss(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        errors.append((outputs - targets).abs().mean().item())
        sizes.append(len(inputs))
    values, steps = BatchValues(), []
    step_losses = ember.callbacks.LambdaCallback(
        on_batch_end=lambda batch, logs: steps.append(float(logs["loss"].detach()))
    )
    history = model.fit(
        x, y, batch_size=4, shuffle=False, verbose=0, callbacks=[values, step_losses]
    )
    # ember's on_batch_end gets the step's own loss; Keras' on_train_batch_end the running means
    np.testing.assert_allclose(steps, losses, rtol=1e-5)
    assert [sorted(logs) for logs in values.train] == [["loss", "mean_absolute_error"]] * 3
    np.testing.assert_allclose(
        [logs["loss"] for logs in values.train], running_means(losses, sizes), rtol=1e-5
    )
    np.testing.assert_allclose(
        [logs["mean_absolute_error"] for logs in values.train],
        running_means(errors, sizes),
        rtol=1e-5,
    )
    # After the last batch, the running means are the epoch's logs, and on_train_end gets them.
    assert values.train[-1] == pytest.approx(values.train_end, rel=1e-6)
    assert values.train_end == {name: h[-1] for name, h in history.history.items()}


def test_test_batch_logs_are_running_means_in_evaluate_and_in_validation():
    x, y = regression_data(10, 0)
    model = compiled_model()
    errors = model.predict(x)[:, 0] - y[:, 0]  # the weights do not move while evaluating
    sizes = [4, 4, 2]
    batches = np.split(errors, [4, 8])
    expected_loss = running_means([np.mean(e**2) for e in batches], sizes)
    expected_error = running_means([np.mean(np.abs(e)) for e in batches], sizes)
    values = BatchValues()
    result = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[values], return_dict=True)
    np.testing.assert_allclose([logs["loss"] for logs in values.test], expected_loss, rtol=1e-5)
    np.testing.assert_allclose(
        [logs["mean_absolute_error"] for logs in values.test], expected_error, rtol=1e-5
    )
    assert values.test_end == result == pytest.approx(values.test[-1], rel=1e-6)

    # In fit, the validation pass calls the same hooks; on_test_end gets the val_ logs unprefixed.
    values = BatchValues()
    history = model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=0, callbacks=[values])
    assert len(values.test) == 3
    assert values.test_end == {
        name[4:]: h[-1] for name, h in history.history.items() if name.startswith("val_")
    }


def test_predict_batch_end_gets_each_batch_outputs():
    x, _ = regression_data(10, 0)
    model = compiled_model()
    values = BatchValues()
    predictions = model.predict(x, batch_size=4, callbacks=[values])
    assert [len(outputs) for outputs in values.outputs] == [4, 4, 2]
    np.testing.assert_array_equal(torch.cat(values.outputs).numpy(), predictions)


def test_on_train_end_gets_the_last_epoch_logs_after_an_early_stop_and_none_without_epochs():
    class StopAtOne(BatchValues):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 1

    x, y = regression_data(10, 0)
    model = compiled_model()
    values = StopAtOne()
    history = model.fit(x, y, epochs=5, validation_data=(x, y), verbose=0, callbacks=[values])
    assert history.epoch == [0, 1]
    assert values.train_end == {name: h[-1] for name, h in history.history.items()}
    model.fit(x, y, epochs=2, initial_epoch=2, verbose=0, callbacks=[values])
    assert values.train_end == {}


def test_keras_batch_logs_hold_a_loss_tensor_and_metric_floats_read_in_the_hook():
    seen = []

    class KeepsLogs(ember.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((logs, dict(logs) if batch == 0 else None))

    x, y = regression_data(10, 0)
    model = compiled_model(metrics=["mse", "mean_absolute_error"])
    model.fit(x, y, batch_size=4, verbose=0, callbacks=[KeepsLogs()])
    first, copied = seen[0]
    assert isinstance(copied["loss"], torch.Tensor) and copied["loss"].ndim == 0
    assert isinstance(copied["mean_absolute_error"], float)
    assert first["loss"] is copied["loss"]  # read in the hook: kept
    unread = seen[1][0]
    # The names need no read, and come sorted, as Keras hands them.
    assert list(unread) == ["loss", "mean_absolute_error", "mse"]
    assert "loss" in unread and "accuracy" not in unread
    with pytest.raises(ConfigError, match=r"read after their batch ended.*dict\(logs\)"):
        unread["loss"]
    with pytest.raises(KeyError):
        first["accuracy"]


def test_fit_validation_prints_no_progress_line_of_its_own(capsys):
    x, y = regression_data(10, 0)
    model = compiled_model()
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "3/3", "Epoch 2/2", "3/3"]
    assert all("val_loss" in line for line in lines[1::2])
