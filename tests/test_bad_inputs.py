"""Every bad input the core issue lists fails early with an ember error naming problem and fix.

(Dataset files: tests/datasets; weights of another architecture: test_saving.py.)
"""

import numpy as np
import pytest
import torch

import ember
from ember import layers, models


def mlp(input_shape=(28, 28)):
    model = models.Sequential(
        [
            layers.Flatten(input_shape=input_shape),
            layers.Dense(8, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cpu"
    )
    return model


def assert_untouched(model, before):
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def fails_before_training(model, error, match, *args, **kwargs):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=match):
        model.fit(*args, verbose=0, **kwargs)
    assert_untouched(model, before)


def test_mismatched_lengths():
    fails_before_training(
        mlp(),
        ember.DataError,
        "different lengths: 10 vs 9",
        np.zeros((10, 28, 28)),
        np.zeros(9, dtype=int),
    )


def test_labels_out_of_range_for_the_loss():
    fails_before_training(
        mlp(), ember.DataError, r"\[0, 10\)", np.zeros((10, 28, 28)), np.arange(10) + 1
    )


def test_one_hot_labels_with_sparse_loss_suggest_categorical():
    fails_before_training(
        mlp(), ember.DataError, "categorical_crossentropy", np.zeros((10, 28, 28)), np.eye(10)
    )


def test_wrong_input_rank_for_first_layer():
    fails_before_training(
        mlp(), ember.ShapeError, r"\(28, 28\)", np.zeros((10, 784)), np.zeros(10, dtype=int)
    )


def test_wrong_channel_count_for_first_conv_layer():
    model = models.Sequential(
        [
            layers.Conv2D(4, 3, input_shape=(8, 8, 3)),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    fails_before_training(
        model, ember.ShapeError, r"\(8, 8, 3\)", np.zeros((4, 8, 8, 1)), np.zeros(4, dtype=int)
    )


def test_lazy_first_layer_with_wrong_input_shape():
    model = models.Sequential([layers.Dense(2, input_shape=(5,))])
    model.compile(loss="mse", device="cpu")
    with pytest.raises(ember.ShapeError, match=r"\(5,\)"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


def test_non_numeric_inputs():
    fails_before_training(
        mlp(),
        ember.DataError,
        "must hold numbers",
        np.array([["a"] * 28] * 28 * 2).reshape(2, 28, 28),
        np.zeros(2, dtype=int),
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_inputs(bad):
    x = np.zeros((4, 28, 28))
    x[1, 2, 3] = bad
    fails_before_training(mlp(), ember.DataError, "NaN or infinite", x, np.zeros(4, dtype=int))


def test_empty_data():
    fails_before_training(
        mlp(), ember.DataError, "empty", np.zeros((0, 28, 28)), np.zeros(0, dtype=int)
    )


@pytest.mark.parametrize(
    "make, close",
    [
        (lambda: layers.Dense(4, activation="relu6x"), "relu6"),
        (
            lambda: mlp().compile(loss="sparse_categorical_crossentropyy"),
            "sparse_categorical_crossentropy",
        ),
        (lambda: mlp().compile(optimizer="adamm", loss="mse"), "adam"),
        (lambda: mlp().compile(loss="mse", metrics=["acuracy"]), "accuracy"),
        (lambda: ember.layers.get("Dens"), "Dense"),
    ],
)
def test_unknown_names_list_close_matches(make, close):
    with pytest.raises(ember.ConfigError, match=f"Did you mean '{close}'"):
        make()


def test_fit_before_compile():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ember.NotCompiledError, match="compile"):
        model.fit(np.zeros((4, 3)), np.zeros(4), verbose=0)


def test_bad_argument_values_are_named():
    with pytest.raises(ember.ConfigError, match="expected a positive integer, received units=0"):
        layers.Dense(0)
    with pytest.raises(ember.ConfigError, match="batch_size=0"):
        mlp().fit(np.zeros((4, 28, 28)), np.zeros(4, dtype=int), batch_size=0, verbose=0)
    with pytest.raises(ember.ConfigError, match="validation_split"):
        mlp().fit(np.zeros((4, 28, 28)), np.zeros(4, dtype=int), validation_split=1.5, verbose=0)
    with pytest.raises(ember.ConfigError, match=r"metrics=\['accuracy'\]"):
        mlp().compile(loss="mse", metrics="accuracy")
