"""Merge layers against Keras 3 (torch backend): outputs, broadcasting, functional forms, errors."""

import os

import numpy as np
import pytest
import torch

from ember import layers
from ember.errors import ConfigError, DataError, ShapeError

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402


def _keras(layer, inputs):
    return layer([x.clone() for x in inputs]).detach().cpu().numpy()


def _inputs(*shapes):
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(*shape, generator=generator) for shape in shapes]


ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize(
    "shapes",
    [((4, 3), (4, 3)), ((4, 2, 3), (4, 3)), ((4, 1, 3), (4, 5, 1)), ((4, 5, 3), (4, 1, 3))],
    ids=["same", "lower_rank", "both_broadcast", "size_one"],
)
def test_elementwise_merges_equal_keras(name, shapes):
    inputs = _inputs(*shapes)
    ours = getattr(layers, name)()(inputs)
    np.testing.assert_allclose(
        ours.numpy(), _keras(getattr(keras.layers, name)(), inputs), atol=1e-6
    )


@pytest.mark.parametrize("name", ["Add", "Multiply", "Average", "Maximum", "Minimum"])
def test_merges_of_three_inputs_equal_keras(name):
    inputs = _inputs((2, 4), (2, 4), (2, 4))
    np.testing.assert_allclose(
        getattr(layers, name)()(inputs).numpy(),
        _keras(getattr(keras.layers, name)(), inputs),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "axis, shapes",
    [(-1, ((2, 3, 4), (2, 3, 5))), (1, ((2, 3, 4), (2, 1, 4))), (2, ((2, 3, 1), (2, 3, 2)))],
)
def test_concatenate_equals_keras(axis, shapes):
    inputs = _inputs(*shapes)
    ours = layers.Concatenate(axis=axis)(inputs)
    np.testing.assert_array_equal(ours.numpy(), _keras(keras.layers.Concatenate(axis=axis), inputs))


@pytest.mark.parametrize(
    "axes, normalize, shapes",
    [
        (1, False, ((3, 4), (3, 4))),
        (-1, True, ((3, 4), (3, 4))),
        ((1, 2), False, ((2, 3, 5), (2, 6, 3))),
        ((2, 1), True, ((2, 3, 5), (2, 5, 7))),
        ((1, 1), False, ((2, 4), (2, 4, 6))),
        (-1, False, ((2, 3, 4, 5), (2, 5))),
    ],
)
def test_dot_equals_keras(axes, normalize, shapes):
    inputs = _inputs(*shapes)
    ours = layers.Dot(axes=axes, normalize=normalize)(inputs)
    theirs = _keras(keras.layers.Dot(axes=axes, normalize=normalize), inputs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-5)


def test_functional_forms_are_the_layers():
    a, b = _inputs((2, 3), (2, 3))
    for function, cls in [
        (layers.add, layers.Add),
        (layers.subtract, layers.Subtract),
        (layers.multiply, layers.Multiply),
        (layers.average, layers.Average),
        (layers.maximum, layers.Maximum),
        (layers.minimum, layers.Minimum),
    ]:
        torch.testing.assert_close(function([a, b]), cls()([a, b]))
    torch.testing.assert_close(layers.concatenate([a, b], axis=0), torch.cat([a, b]))
    np.testing.assert_allclose(
        layers.dot([a, b], axes=1, normalize=True).numpy(),
        keras.layers.dot([a, b], axes=1, normalize=True).detach().numpy(),
        atol=1e-6,
    )


def test_merge_configs_round_trip():
    for layer in [layers.Add(name="sum"), layers.Concatenate(axis=1), layers.Dot((1, 2), True)]:
        clone = type(layer)(**layer.get_config())
        assert clone.get_config() == layer.get_config()
    assert layers.Dot(axes=(1, 2), normalize=True).get_config()["axes"] == (1, 2)


def test_merge_records_its_input_shapes_and_gradients_flow():
    a, b = (x.requires_grad_() for x in _inputs((2, 3), (2, 3)))
    layer = layers.Multiply()
    layer([a, b]).sum().backward()
    assert layer.built_input_shape == [(3,), (3,)]
    torch.testing.assert_close(a.grad, b.detach())


def test_mismatched_shapes_name_both_and_the_fix():
    a, b = _inputs((2, 3), (2, 4))
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(2, 4\).*3 against 4.*Fix"):
        layers.Add()([a, b])
    with pytest.raises(ShapeError, match="different batch sizes.*\\(2, 3\\), \\(5, 3\\)"):
        layers.Add()([a, torch.zeros(5, 3)])
    with pytest.raises(ShapeError, match=r"Concatenate\(axis=-1\).*\(2, 3\), \(2, 4, 1\)"):
        layers.Concatenate()([a, torch.zeros(2, 4, 1)])
    with pytest.raises(ShapeError, match=r"Concatenate\(axis=1\).*\(2, 3, 4\), \(2, 3, 5\)"):
        layers.Concatenate(axis=1)([torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)])
    with pytest.raises(ShapeError, match="contracts sizes that differ: 3.*4"):
        layers.Dot(axes=1)([a, b])
    with pytest.raises(ShapeError, match="batch axis"):
        layers.Dot(axes=-2)([a, a])  # resolves to axis 0


def test_a_merge_needs_a_list_of_the_right_length():
    a = torch.zeros(2, 3)
    with pytest.raises(DataError, match="list of tensors.*received a tensor of shape \\(2, 3\\)"):
        layers.Add()(a)
    with pytest.raises(DataError, match="list of 2 tensors.*received 3"):
        layers.Subtract()([a, a, a])
    with pytest.raises(DataError, match="at least one"):
        layers.Average()([])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.Dot(axes=0), "axis 0 is the batch"),
        (lambda: layers.Dot(axes=(1, 2, 3)), "two of them"),
        (lambda: layers.Dot(axes="last"), "received axes='last'"),
        (lambda: layers.Concatenate(axis=1.5), "integer axis"),
    ],
)
def test_bad_merge_arguments(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
