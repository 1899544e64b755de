"""Weight constraints against Keras 3 (torch backend): each projection, the axes of Keras' kernel
layouts on ember's torch-layout weights, and the projection after every optimizer step."""

import os
from functools import partial

import numpy as np
import pytest
import torch

import ember
from ember import layers, models, optimizers
from ember.errors import ConfigError, UnknownNameError
from ember.layers import constraints
from ember.train.stepping import build_steps

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _random(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def _keras(constraint, weight):
    return constraint(weight.clone()).detach().cpu().numpy()


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("MaxNorm", {}),
        ("MaxNorm", {"max_value": 1.5, "axis": 1}),
        ("MaxNorm", {"max_value": 2.0, "axis": [0, 1, 2]}),
        ("NonNeg", {}),
        ("UnitNorm", {}),
        ("UnitNorm", {"axis": [0, 2]}),
        ("MinMaxNorm", {}),
        ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": -1}),
    ],
)
def test_constraints_equal_keras(name, kwargs):
    weight = _random(3, 4, 2, 5) * 2
    ours = getattr(constraints, name)(**kwargs)
    theirs = getattr(keras.constraints, name)(**kwargs)
    np.testing.assert_allclose(ours(weight).numpy(), _keras(theirs, weight), atol=1e-6)
    assert ours.get_config() == theirs.get_config()
    assert type(ours)(**ours.get_config()).get_config() == ours.get_config()


@pytest.mark.parametrize(
    "make_ours, make_theirs, shape, axis",
    [
        (partial(layers.Dense, 4), partial(keras.layers.Dense, 4), (2, 3), 0),
        (partial(layers.Conv1D, 4, 3), partial(keras.layers.Conv1D, 4, 3), (2, 6, 3), [0, 1]),
        (partial(layers.Conv2D, 4, 2), partial(keras.layers.Conv2D, 4, 2), (2, 5, 5, 3), [0, 1, 2]),
        (
            partial(layers.Conv2DTranspose, 4, 2),
            partial(keras.layers.Conv2DTranspose, 4, 2),
            (2, 5, 5, 3),
            [0, 1, 3],
        ),
    ],
    ids=["Dense", "Conv1D", "Conv2D", "Conv2DTranspose"],
)
def test_kernel_constraint_axes_mean_keras_layout(make_ours, make_theirs, shape, axis):
    ours = make_ours(
        kernel_constraint=constraints.MaxNorm(0.3, axis=axis), bias_constraint="non_neg"
    )
    ours(_random(*shape))
    with torch.no_grad():
        ours.bias.copy_(torch.linspace(-1, 1, 4))
    theirs = make_theirs()
    theirs.build((None, *shape[1:]))
    kernel = ours.weight.detach().permute(*range(2, ours.weight.dim()), 1, 0)  # Keras' layout
    assert tuple(kernel.shape) == tuple(theirs.kernel.shape)
    expected = _keras(keras.constraints.MaxNorm(0.3, axis=axis), kernel)
    assert not np.allclose(kernel.numpy(), expected)  # the constraint binds
    constraints.constraint_step(ours)()
    np.testing.assert_allclose(kernel.numpy(), expected, atol=1e-6)  # the view follows the weight
    assert ours.bias.tolist()[:2] == [0.0, 0.0] and ours.bias[-1].item() == 1.0


def test_embedding_constraint_limits_each_vector():
    layer = layers.Embedding(
        6, 4, embeddings_initializer="ones", embeddings_constraint=constraints.UnitNorm(1)
    )
    constraints.constraint_step(layer)()
    torch.testing.assert_close(layer.weight.norm(dim=1), torch.ones(6))


def test_no_constraint_means_no_work_and_frozen_weights_stay():
    task = ember.Supervised(models.Sequential([layers.Dense(2, input_shape=(3,))]), "mse")
    assert build_steps(task, "sgd", 1, 1)[0].constrain is None
    layer = layers.Dense(2, kernel_constraint="non_neg", kernel_initializer="ones")
    layer(torch.zeros(1, 3))
    with torch.no_grad():
        layer.weight.fill_(-1.0)
    layer.weight.requires_grad_(False)
    assert constraints.constraint_step(layer) is None  # Keras constrains what the optimizer moves


def test_max_norm_after_a_fit_step_equals_keras():
    x, y = _random(8, 3) * 3, _random(8, 4) * 3
    ours = models.Sequential(
        [layers.Dense(4, input_shape=(3,), kernel_constraint=constraints.MaxNorm(0.5))]
    )
    theirs = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, kernel_constraint=keras.constraints.MaxNorm(0.5))]
    )
    dense = ours.layers[0]
    theirs.layers[0].set_weights([dense.weight.detach().T.numpy(), dense.bias.detach().numpy()])
    ours.compile(optimizers.SGD(learning_rate=0.5), "mse", device="cpu")
    theirs.compile(keras.optimizers.SGD(learning_rate=0.5), "mse")
    ours.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    theirs.fit(x.numpy(), y.numpy(), batch_size=8, shuffle=False, verbose=0)
    assert (dense.weight.norm(dim=1) <= 0.5 + 1e-6).all()  # each unit's incoming weights
    np.testing.assert_allclose(
        dense.weight.detach().T.numpy(), theirs.layers[0].get_weights()[0], atol=1e-6
    )


def test_get_and_serialize():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("MinMaxNorm"), constraints.MinMaxNorm)
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)  # a class, as Keras
    assert constraints.get(None) is None
    function = torch.abs
    assert constraints.get(function) is function
    spec = constraints.serialize(constraints.MinMaxNorm(0.5, 2.0, 0.9, axis=[0, 1]))
    assert constraints.get(spec).get_config() == {
        "min_value": 0.5,
        "max_value": 2.0,
        "rate": 0.9,
        "axis": [0, 1],
    }
    assert constraints.names() == ["MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"]
    assert constraints.max_norm is constraints.MaxNorm  # Keras' snake-case exports
    assert constraints.deserialize(spec).get_config() == constraints.get(spec).get_config()
    layer = layers.Dense(3, kernel_constraint="unit_norm", bias_constraint=constraints.NonNeg())
    clone = layers.Dense(**layer.get_config())
    assert isinstance(clone.kernel_constraint, constraints.UnitNorm)
    assert isinstance(clone.bias_constraint, constraints.NonNeg)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: constraints.MaxNorm(0), ConfigError, "positive number, received max_value=0"),
        (lambda: constraints.UnitNorm(axis="rows"), ConfigError, "integer axis or a list"),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), ConfigError, "max_value >= min_value"),
        (lambda: constraints.MinMaxNorm(rate=1.5), ConfigError, r"\[0, 1\], received rate=1.5"),
        (lambda: constraints.get("max_nrom"), UnknownNameError, "Did you mean 'MaxNorm'"),
        (lambda: constraints.get(3), ConfigError, "a name such as 'max_norm'"),
        (lambda: constraints.serialize(torch.abs), ConfigError, "can be serialized"),
        (
            lambda: layers.Conv2D(2, 3, kernel_constraint="max"),
            UnknownNameError,
            "unknown constraint",
        ),
    ],
)
def test_bad_constraints(make, error, message):
    with pytest.raises(error, match=message):
        make()
