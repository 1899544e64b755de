"""Core layers against torch references, and their argument and shape errors."""

import pytest
import torch
import torch.nn.functional as F

from ember.errors import ConfigError, DataError, ShapeError
from ember.layers import Activation, Conv2D, Dense, Dropout, Embedding, Flatten, Reshape


def test_dense_matches_linear_on_the_last_axis():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 6)
    layer = Dense(5, bias_initializer="random_normal")
    y = layer(x)
    assert layer.weight.shape == (5, 6) and y.shape == (4, 3, 5)
    torch.testing.assert_close(y, F.linear(x, layer.weight, layer.bias), atol=1e-6, rtol=1e-6)


def test_dense_activation_is_applied_after_call():
    torch.manual_seed(0)
    layer = Dense(3, activation="relu")
    x = torch.randn(8, 4)
    torch.testing.assert_close(layer(x), torch.relu(layer.call(x)))
    assert (layer.call(x) < 0).any()  # call is the pre-activation (logits) path


def test_dense_without_bias_has_no_bias_parameter():
    layer = Dense(3, use_bias=False)
    layer(torch.randn(2, 4))
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]


def test_dense_gradcheck_float64():
    torch.manual_seed(0)
    layer = Dense(3, activation="tanh")
    layer.build_from_input(torch.zeros(1, 4))
    layer.double()
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-6)


def test_dense_regularization_loss_is_closed_form():
    layer = Dense(3, kernel_regularizer="l2", bias_regularizer="l1", bias_initializer="ones")
    assert Dense(3).regularization_loss() is None
    layer(torch.randn(2, 4))
    expected = 0.01 * layer.weight.square().sum() + 0.01 * 3.0
    torch.testing.assert_close(layer.regularization_loss(), expected)


def test_dense_config_round_trip_gives_same_output_shape():
    layer = Dense(7, activation="relu", kernel_initializer="he_normal", kernel_regularizer="l1")
    clone = type(layer)(**layer.get_config())
    x = torch.randn(2, 5)
    assert clone(x).shape == layer(x).shape == (2, 7)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Dense(0), "expected a positive integer, received units=0"),
        (lambda: Dense(2.5), "received units=2.5"),
        (lambda: Dense(2, kernel_initializer="glorot"), "glorot_uniform"),
        (lambda: Dense(2, kernel_regularizer="l3"), "l1"),
        (lambda: Dropout(1.0), "expected a rate in \\[0, 1\\), received rate=1.0"),
        (lambda: Dropout(-0.1), "received rate=-0.1"),
        (lambda: Reshape((-1, -1)), "at most one -1"),
        (lambda: Embedding(0, 4), "received input_dim=0"),
    ],
)
def test_invalid_core_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_dense_input_shape_mismatch_raises_shape_error():
    layer = Dense(3, input_shape=(4,))
    with pytest.raises(ShapeError, match="per-sample shape \\(4,\\).*received per-sample shape"):
        layer(torch.randn(2, 5))


def test_flatten_keeps_keras_channels_last_order_without_a_copy():
    x = torch.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    torch.testing.assert_close(Flatten()(x), x.reshape(2, -1))
    conv_output = Conv2D(4, 3)(torch.randn(2, 6, 6, 2))
    flat = Flatten()(conv_output)
    assert flat.shape == (2, 64) and flat.data_ptr() == conv_output.data_ptr()  # a view
    assert Flatten()(torch.arange(3.0)).shape == (3, 1)


def test_reshape_infers_minus_one_and_checks_sizes():
    x = torch.arange(24.0).reshape(2, 12)
    torch.testing.assert_close(Reshape((3, -1))(x), x.reshape(2, 3, 4))
    with pytest.raises(ShapeError, match="cannot turn per-sample shape \\(12,\\)"):
        Reshape((5, -1))(x)
    with pytest.raises(ShapeError, match="into \\(3, 3\\)"):
        Reshape((3, 3))(x)


def test_dropout_is_identity_in_eval_and_scales_kept_units_in_training():
    torch.manual_seed(0)
    layer = Dropout(0.25)
    x = torch.ones(200, 500)
    y = layer(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize("rate", [0.1, 0.2, 0.5, 0.9])
def test_cpu_dropout_drops_each_element_with_probability_rate(rate):
    torch.manual_seed(0)
    n = 1_000_000
    y = Dropout(rate)(torch.ones(n))
    dropped = (y == 0).float().mean().item()
    # binomial standard deviation; 5 sigma keeps the test deterministic-in-practice yet sharp
    assert abs(dropped - rate) < 5 * (rate * (1 - rate) / n) ** 0.5
    assert abs(y.mean().item() - 1.0) < 5 * (rate / (1 - rate) / n) ** 0.5  # unbiased


def test_cpu_dropout_mask_is_uniform_over_lanes_and_positions():
    torch.manual_seed(0)
    y = Dropout(0.5)(torch.ones(4096, 64))
    # each of the four 16-bit lanes of a 64-bit draw, and each column, drops half
    per_lane = (y == 0).float().view(-1, 4).mean(0)
    torch.testing.assert_close(per_lane, torch.full((4,), 0.5), atol=0.01, rtol=0)
    assert (y == 0).float().mean(0).sub(0.5).abs().max() < 0.05


def test_cpu_dropout_gradient_is_the_scaled_mask_and_seeded_runs_repeat():
    x = torch.randn(64, 32, requires_grad=True)
    torch.manual_seed(3)
    y = Dropout(0.3)(x)
    y.sum().backward()
    kept = y.detach() != 0
    torch.testing.assert_close(x.grad, kept.float() * (65536 / (65536 - round(0.3 * 65536))))
    torch.manual_seed(3)
    assert torch.equal(Dropout(0.3)(x), y)
    # channels-last and other strided inputs get the same mask semantics
    image = torch.ones(2, 3, 8, 8).to(memory_format=torch.channels_last)
    assert Dropout(0.5)(image).shape == image.shape


def test_activation_layer_applies_softmax_and_call_is_identity():
    x = torch.randn(3, 5)
    layer = Activation("softmax")
    torch.testing.assert_close(layer(x), torch.softmax(x, dim=-1))
    assert layer.call(x) is x


def test_embedding_matches_f_embedding_and_keras_uniform_init():
    torch.manual_seed(0)
    layer = Embedding(100, 8)
    ids = torch.randint(0, 100, (4, 7))
    torch.testing.assert_close(layer(ids), F.embedding(ids, layer.weight))
    assert layer.weight.shape == (100, 8) and layer.weight.abs().max() <= 0.05
    torch.testing.assert_close(layer(ids.float()), layer(ids))  # float ids are cast, as in Keras


def test_embedding_mask_zero():
    ids = torch.tensor([[3, 1, 0, 0]])
    assert Embedding(5, 2, mask_zero=True).compute_mask(ids).tolist() == [
        [True, True, False, False]
    ]
    assert Embedding(5, 2).compute_mask(ids) is None


def test_embedding_index_out_of_range_raises_data_error_naming_max_index():
    layer = Embedding(10, 4)
    with pytest.raises(DataError, match="max index 12.*input_dim=10"):
        layer(torch.tensor([[1, 12]]))  # first call: checked while building
    layer(torch.tensor([[1, 2]]))
    with pytest.raises(DataError, match="max index 10.*input_dim=10"):
        layer(torch.tensor([[10, 2]]))  # later calls: torch's IndexError, re-raised
    with pytest.raises(DataError, match="ids in \\[-1, 2\\]"):
        layer(torch.tensor([[-1, 2]]))


def test_a_frozen_embedding_stays_frozen_through_save_and_load(tmp_path):
    from ember import models

    model = models.Sequential([Embedding(6, 3, trainable=False, input_shape=(4,)), Flatten()])
    assert not model.layers[0].weight.requires_grad
    model.save(tmp_path / "model")
    loaded = models.load_model(tmp_path / "model")
    assert not loaded.layers[0].weight.requires_grad
    torch.testing.assert_close(loaded.layers[0].weight, model.layers[0].weight)
