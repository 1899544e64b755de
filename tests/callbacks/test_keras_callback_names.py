"""A callback written for Keras (on_train_begin, on_train_batch_end, self.model.stop_training)
runs unchanged: Keras' hook names are the engine's hooks under other names."""

import numpy as np
import pytest

import ember
from ember import layers


class KerasStyle(ember.callbacks.Callback):
    def __init__(self):
        self.seen = []

    def on_train_begin(self, logs=None):
        self.seen.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(f"epoch_begin {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(f"batch {batch}: {logs['loss']:.2f}")  # a tensor formats like a float

    def on_test_begin(self, logs=None):
        self.seen.append("test_begin")

    def on_predict_end(self, logs=None):
        self.seen.append("predict_end")


class StopAfterOneEpoch(ember.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True  # Keras' way to stop


def test_keras_hook_names_are_called_at_the_same_moments():
    model = ember.Sequential([layers.Dense(1, input_shape=(2,), kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    callback = KerasStyle()
    history = model.fit(
        x, y, batch_size=2, epochs=3, callbacks=[callback, StopAfterOneEpoch()], verbose=0
    )
    model.evaluate(x, y, callbacks=[callback], verbose=0)
    model.predict(x, callbacks=[callback])
    assert len(history.history["loss"]) == 1  # stopped by self.model.stop_training
    assert callback.seen[:2] == ["train_begin", "epoch_begin 0"]
    assert callback.seen[2] == "batch 0: 1.00"  # zero weights: (0 - 1)^2
    assert callback.seen[-2:] == ["test_begin", "predict_end"]


def test_stop_training_without_compile_is_harmless():
    model = ember.Sequential([layers.Dense(1, input_shape=(2,))])
    model.stop_training = True
    assert model.stop_training is False
    with pytest.raises(ember.NotCompiledError):
        model.fit(np.ones((2, 2)), np.ones((2, 1)))
