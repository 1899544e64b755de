"""The perceptron rule learns AND and OR, cannot learn XOR; a 2-layer MLP with backprop can."""

import numpy as np
import pytest

import ember
from ember import layers, models

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")


@pytest.mark.parametrize("name, y", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1])])
def test_perceptron_learns_linearly_separable_gates(name, y):
    model = models.Perceptron(device="cpu")
    history = model.fit(X, np.array(y), epochs=20, verbose=0)
    assert model.predict(X).tolist() == y
    assert history.history["accuracy"][-1] == 1.0
    # The rule's fixed point: once every sample is right, the weights stop moving.
    assert history.history["loss"][-1] == 0.0


def test_perceptron_cannot_learn_xor():
    model = models.Perceptron(device="cpu")
    history = model.fit(X, np.array([0, 1, 1, 0]), epochs=100, verbose=0)
    # No line separates XOR: at best 3 of 4 right, in every epoch.
    assert max(history.history["accuracy"]) < 1.0
    assert (model.predict(X) == np.array([0, 1, 1, 0])).mean() <= 0.75


def test_mlp_trained_by_backprop_learns_xor():
    ember.set_seed(0)
    model = models.Sequential(
        [
            layers.Dense(8, activation="tanh", input_shape=(2,)),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=ember.optimizers.Adam(learning_rate=0.05),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        device="cpu",
    )
    model.fit(X, np.array([0, 1, 1, 0]), epochs=300, batch_size=4, verbose=0)
    assert ((model.predict(X)[:, 0] > 0.5) == np.array([0, 1, 1, 0], bool)).all()


def test_perceptron_rejects_labels_other_than_zero_and_one():
    with pytest.raises(ember.DataError, match="labelled 0 and 1"):
        models.Perceptron(device="cpu").fit(X, np.array([0, 2, 1, 0]), verbose=0)
