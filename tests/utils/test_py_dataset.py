"""A Keras-style PyDataset trains, evaluates and predicts exactly as the same arrays do."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember import layers, utils
from ember.errors import ConfigError, DataError

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3)).astype("float32")  # 20 samples: batches of 8, 8 and 4
Y = X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
WEIGHTS = rng.uniform(0.5, 2.0, size=20).astype("float32")


class ArrayBatches(utils.PyDataset):
    """Batches of X, Y (and WEIGHTS); records what is read and when epochs end."""

    def __init__(self, batch_size=8, with_weights=False, inputs_only=False, **kwargs):
        super().__init__(**kwargs)
        self.batch_size, self.with_weights, self.inputs_only = batch_size, with_weights, inputs_only
        self.read, self.epochs_begun, self.epochs_ended = [], 0, 0

    def __len__(self):
        return math.ceil(len(X) / self.batch_size)

    def __getitem__(self, index):
        self.read.append(index)
        window = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.inputs_only:
            return X[window]
        if self.with_weights:
            return X[window], Y[window], WEIGHTS[window]
        return X[window], Y[window]

    def on_epoch_begin(self):
        self.epochs_begun += 1

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model():
    ember.set_seed(0)
    model = ember.Sequential(
        [layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    return model


def _weights(model):
    return [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize("workers", [1, 2])
def test_fit_on_a_py_dataset_equals_fit_on_its_arrays(workers):
    reference = _model()
    reference.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    model, data = _model(), ArrayBatches(workers=workers)
    history = model.fit(data, epochs=3, shuffle=False, verbose=0)
    for ours, theirs in zip(_weights(model), _weights(reference)):
        np.testing.assert_array_equal(ours, theirs)
    assert history.history["loss"] == pytest.approx(reference.history.history["loss"])
    assert data.epochs_begun == data.epochs_ended == 3  # once per epoch each, as in Keras
    assert data.read[-9:] == [0, 1, 2] * 3  # each epoch reads the batches in order


def test_fit_with_sample_weights_from_the_batches_equals_fit_with_sample_weight():
    reference = _model()
    reference.fit(X, Y, sample_weight=WEIGHTS, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model = _model()
    model.fit(ArrayBatches(with_weights=True), epochs=2, shuffle=False, verbose=0)
    for ours, theirs in zip(_weights(model), _weights(reference)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_fit_shuffles_the_order_of_whole_batches_each_epoch():
    data = ArrayBatches(batch_size=2)  # 10 batches
    _model().fit(data, epochs=2, verbose=0)
    first, second = data.read[-20:-10], data.read[-10:]
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != list(range(10)) or second != list(range(10))
    assert data.epochs_ended == 2


def test_evaluate_and_predict_on_a_py_dataset_equal_them_on_arrays():
    model = _model()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    data = ArrayBatches()
    assert model.evaluate(data, verbose=0) == pytest.approx(model.evaluate(X, Y, verbose=0))
    assert data.epochs_begun == data.epochs_ended == 1
    predicted = model.predict(ArrayBatches(inputs_only=True))
    np.testing.assert_allclose(np.asarray(predicted), model.predict(X), rtol=1e-6)


def test_validation_data_may_be_a_py_dataset():
    model = _model()
    history = model.fit(X, Y, validation_data=ArrayBatches(), epochs=2, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(X, Y, verbose=0))


def test_a_subclass_without_super_init_keeps_keras_defaults():
    class Bare(utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return X, Y

    data = Bare()
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (1, False, 10)
    assert utils.Sequence is utils.PyDataset


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ArrayBatches(workers=0), ConfigError, "received workers=0"),
        (lambda: ArrayBatches(max_queue_size=-1), ConfigError, "received max_queue_size=-1"),
        (lambda: _model().fit(ArrayBatches(), Y, verbose=0), DataError, "y must be None"),
        (lambda: utils.PyDataset()[0], NotImplementedError, "must define __getitem__"),
    ],
)
def test_bad_py_dataset_use_raises(call, error, message):
    with pytest.raises(error, match=message):
        call()
