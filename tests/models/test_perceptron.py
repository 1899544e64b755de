"""The perceptron rule learns AND and OR, cannot learn XOR; a 2-layer MLP with backprop can."""

import numpy as np
import pytest
import torch

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


def test_one_engine_step_is_rosenblatts_rule_by_hand():
    # The rule on a batch: w += lr * (y - ŷ) @ x, b += lr * sum(y - ŷ), with ŷ = step(w·x + b).
    model = models.Perceptron(learning_rate=0.5, device="cpu")
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 2, generator=generator), torch.tensor([0.0, 1, 1, 0, 1, 0])
    model.fit(x[:2], y[:2], epochs=1, batch_size=2, verbose=0)  # off the zero start
    weight, bias = model.dense.weight.detach().clone(), model.dense.bias.detach().clone()
    predicted = ((x @ weight.T + bias).squeeze(-1) > 0).float()
    assert 0 < (predicted != y).sum() < len(y)  # some samples wrong, some right: a real update
    model.trainer.train_on_batch((x, y))
    error = y - predicted
    torch.testing.assert_close(model.dense.weight, weight + 0.5 * (error @ x).view_as(weight))
    torch.testing.assert_close(model.dense.bias, bias + 0.5 * error.sum())
