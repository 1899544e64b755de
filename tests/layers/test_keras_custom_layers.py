"""Layers written as in Keras' subclassing guide: build(input_shape) with add_weight, call()."""

import pytest
import torch

import ember
from ember import layers


class Linear(layers.Layer):
    """The first layer of Keras' "Making new layers and models via subclassing" guide."""

    def __init__(self, units=32):
        super().__init__()
        self.units = units
        self.shapes = []

    def build(self, input_shape):
        self.shapes.append(input_shape)
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", regularizer="l2")

    def call(self, inputs):
        return torch.matmul(inputs, self.w) + self.b


def test_a_user_layer_gets_keras_batch_shape_and_its_weights_train():
    layer = Linear(4)
    x = torch.randn(5, 3)
    y = layer(x)
    assert layer.shapes == [(None, 3)]  # Keras' build shape: the batch size first
    torch.testing.assert_close(y, x @ layer.w + layer.b)
    assert [name for name, _ in layer.named_parameters()] == ["w", "b"]
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(3, 4), (4,)]
    with torch.no_grad():
        layer.b.fill_(2.0)
    torch.testing.assert_close(layer.regularization_loss(), torch.tensor(0.01 * 4 * 4.0))
    model = ember.Sequential([layer, layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    before = layer.w.detach().clone()
    model.fit(torch.randn(16, 3), torch.randn(16, 1), verbose=0)
    assert not torch.equal(before, layer.w)


def test_add_weight_defaults_and_frozen_weights():
    class Frozen(layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], 2))
            self.offset = self.add_weight(shape=(2,), trainable=False)

        def call(self, inputs):
            return inputs @ self.kernel + self.offset

    layer = Frozen()
    layer(torch.ones(1, 6))
    limit = (6 / (6 + 2)) ** 0.5  # glorot_uniform, Keras' default for a float kernel
    assert float(layer.kernel.detach().abs().max()) <= limit
    assert torch.equal(layer.offset, torch.zeros(2)) and not layer.offset.requires_grad
    assert len(layer.weights) == 2 and len(layer.non_trainable_weights) == 1


def test_sequential_can_start_with_an_input():
    model = ember.Sequential([ember.Input(shape=(4,)), layers.Dense(3)])
    assert model.layers[0].weight.shape == (3, 4)  # built at once, as in Keras
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    with pytest.raises(ember.ShapeError, match=r"expects inputs of per-sample shape \(4,\)"):
        model.fit(torch.randn(8, 5), torch.randn(8, 3), verbose=0)
    with pytest.raises(ember.ConfigError, match="can only start a Sequential"):
        ember.Sequential([layers.Dense(2), ember.Input(shape=(2,))])


def test_layers_take_numpy_arrays_as_keras_layers_do():
    import numpy as np

    dense = layers.Dense(2)
    array = np.arange(12, dtype="float64").reshape(3, 4)
    torch.testing.assert_close(dense(array), dense(torch.from_numpy(array).float()))


def test_add_loss_counts_once_per_step_as_in_keras():
    class ActivityRegularizationLayer(layers.Layer):  # from Keras' subclassing guide
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * torch.sum(inputs))
            return inputs

    model = ember.Sequential([layers.Dense(1, use_bias=False), ActivityRegularizationLayer()])
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    x, y = torch.ones(4, 2), torch.zeros(4, 1)
    model.build((None, 2))
    with torch.no_grad():
        model.layers[0].weight.fill_(1.0)  # outputs 2.0 each: mse 4.0, penalty 0.01 * 8
    assert model.evaluate(x, y, verbose=0) == pytest.approx(4.0 + 0.08)
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(4.08)
    assert model.layers[1].losses == []  # read by the step, not carried over


def test_add_weight_gives_a_variable_with_keras_assign_methods():
    class ComputeSum(layers.Layer):  # from Keras' subclassing guide
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(torch.sum(inputs, dim=0))
            return self.total

    layer = ComputeSum(2)
    x = torch.ones(2, 2)
    assert layer(x).numpy().tolist() == [2.0, 2.0]
    assert layer(x).numpy().tolist() == [4.0, 4.0]
    assert layer.non_trainable_weights[0] is layer.total and not layer.trainable_weights
    layer.total.assign(0.5)
    assert layer.state_dict()["total"].tolist() == [0.5, 0.5]


def test_keras_activation_functions_are_layer_activations_and_save_by_name(tmp_path):
    from ember import activations

    model = ember.Sequential(
        [
            layers.Dense(3, activation=activations.relu, input_shape=(2,)),
            layers.Dense(2, activation=activations.softmax),
        ]
    )
    assert model.final_activation() == "softmax"  # fused into the loss like "softmax"
    x = torch.tensor([[-1.0, 2.0]])
    torch.testing.assert_close(activations.relu(x, negative_slope=0.5), torch.tensor([[-0.5, 2.0]]))
    model.save(tmp_path / "model")
    assert ember.load_model(tmp_path / "model").layers[0].get_config()["activation"] == "relu"
