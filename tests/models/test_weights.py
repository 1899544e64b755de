"""get_weights/set_weights: PyTorch modules keep their layout, and every bad input is an error
naming the layer, the expected and the received shapes (Keras' layouts: test_keras_parity.py)."""

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.errors import WeightsMismatchError
from ember.layers.weight_arrays import get_weights, set_weights


def test_plain_torch_modules_keep_state_dict_order_and_layout():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2), layers.Dense(4))
    net(torch.zeros(2, 3))
    # Linear (out, in) and bias; BatchNorm1d weight, bias, running mean and variance; then an
    # ember Dense in Keras' layout (in, units).
    expected = [(2, 3), (2,), (2,), (2,), (2,), (2,), (2, 4), (4,)]
    assert [a.shape for a in get_weights(net)] == expected
    np.testing.assert_array_equal(get_weights(net)[0], net[0].weight.detach().numpy())


# -- bad input ------------------------------------------------------------------------------------
def small_model():
    model = ember.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    return model, [w.copy() for w in model.get_weights()]


def test_set_weights_with_a_wrong_count_names_the_weights_keras_expects():
    model, weights = small_model()
    with pytest.raises(
        WeightsMismatchError, match=r"received 3 arrays, but the model has 4"
    ) as error:
        model.set_weights(weights[:3])
    assert "dense kernel (3, 4), dense bias (4,), dense_1 kernel (4, 2)" in str(error.value)


def test_set_weights_with_a_wrong_shape_names_the_layer_and_both_shapes():
    model, weights = small_model()
    with pytest.raises(
        WeightsMismatchError,
        match=r"layer dense_1 weight bias has shape \(2,\) in Keras' layout, received shape \(3,\)",
    ):
        model.set_weights([*weights[:3], np.zeros(3)])


def test_set_weights_with_a_pytorch_layout_kernel_points_to_load_state_dict():
    model, weights = small_model()
    torch_kernel = weights[2].T  # (units, in): nn.Linear's layout
    with pytest.raises(WeightsMismatchError, match=r"PyTorch's layout .*load_state_dict"):
        model.set_weights([*weights[:2], torch_kernel, weights[3]])


def test_set_weights_with_a_state_dicts_count_points_to_load_state_dict():
    layer = layers.LSTM(3)  # Keras: 3 arrays; torch: 4 tensors (two biases)
    layer(torch.zeros(1, 2, 5))
    state = [t.numpy() for t in layer.state_dict().values()]
    with pytest.raises(WeightsMismatchError, match=r"4 is the number of tensors .*load_state_dict"):
        set_weights(layer, state)


def test_set_weights_checks_every_shape_before_changing_any_weight():
    model, weights = small_model()
    before = [w.copy() for w in weights]
    with pytest.raises(WeightsMismatchError, match="dense_1 weight kernel"):
        model.set_weights([w + 1 for w in weights[:2]] + [np.zeros((2, 4)), weights[3]])
    for now, then in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(now, then)


def test_a_layer_has_keras_get_and_set_weights():
    dense = layers.Dense(3)
    dense(torch.ones(1, 5))
    kernel, bias = dense.get_weights()
    np.testing.assert_array_equal(kernel, dense.weight.detach().numpy().T)  # Keras' (in, units)
    dense.set_weights([np.ones((5, 3)), np.zeros(3)])
    torch.testing.assert_close(dense(torch.ones(2, 5)), torch.full((2, 3), 5.0))
    with pytest.raises(ember.WeightsMismatchError, match=r"expected|shape \(5, 3\)"):
        dense.set_weights([np.ones((3, 5)), np.zeros(3)])
