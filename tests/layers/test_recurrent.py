"""SimpleRNN, LSTM and GRU against torch's nn.RNN/nn.LSTM/nn.GRU: values, gradients, masks, states."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from ember import models
from ember.errors import ConfigError, ShapeError
from ember.layers import Dense, Embedding
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.optimizers.adam import Adam

ATOL, RTOL = 1e-5, 1e-5
LAYERS = {
    "simple_rnn_tanh": lambda **kw: SimpleRNN(4, **kw),
    "simple_rnn_relu": lambda **kw: SimpleRNN(4, activation="relu", **kw),
    "lstm": lambda **kw: LSTM(4, **kw),
    "gru": lambda **kw: GRU(4, **kw),
}
KINDS = pytest.mark.parametrize("kind", list(LAYERS))


def built(kind, features=3, **kwargs):
    """A layer of ``kind`` built for ``features``, with every bias non-zero (so all are checked)."""
    torch.manual_seed(0)
    layer = LAYERS[kind](**kwargs)
    layer.eval()(torch.zeros(1, 2, features))  # eval: no dropout draws, so weights match
    layer.train().reset_states()
    with torch.no_grad():
        layer.rnn.bias_ih_l0.normal_()
        layer.rnn.bias_hh_l0.normal_()
    return layer


def torch_copy(layer):
    """A plain torch module holding the same weights as ``layer``."""
    rnn = layer.rnn
    options = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    copy = type(rnn)(rnn.input_size, rnn.hidden_size, bias=rnn.bias, batch_first=True, **options)
    copy.load_state_dict(rnn.state_dict())
    return copy


def final_states(torch_final):
    return [s[0] for s in torch_final] if isinstance(torch_final, tuple) else [torch_final[0]]


def run_step_loop(layer, monkeypatch):
    """Make ``layer`` take its step-by-step path although it has no recurrent dropout."""
    monkeypatch.setattr(layer, "_needs_loop", lambda: True)


def padded_batch(lengths, steps, side, features=3, seed=1):
    """Random sequences placed right, left, or scattered ("holes") within ``steps``, with junk in
    the padding; returns the batch, its mask, and each sequence unpadded."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(len(lengths), steps, features, generator=generator) * 10  # junk everywhere
    mask = torch.zeros(len(lengths), steps, dtype=torch.bool)
    for row, length in enumerate(lengths):
        if side == "right":
            mask[row, :length] = True
        elif side == "left":
            mask[row, steps - length :] = True
        else:
            mask[row, torch.randperm(steps, generator=generator)[:length]] = True
    x[mask] = torch.randn(int(mask.sum()), features, generator=generator)
    return x, mask, [x[row, mask[row]].unsqueeze(0) for row in range(len(lengths))]


# -- against torch --------------------------------------------------------------------------------
@KINDS
def test_outputs_states_and_gradients_match_torch(kind):
    layer = built(kind, features=5, return_sequences=True, return_state=True)
    reference = torch_copy(layer)
    x = torch.randn(3, 6, 5, requires_grad=True)
    x_reference = x.detach().clone().requires_grad_()
    output, *states = layer(x)
    expected, expected_final = reference(x_reference)
    torch.testing.assert_close(output, expected, atol=ATOL, rtol=RTOL)
    for state, expected_state in zip(states, final_states(expected_final), strict=True):
        torch.testing.assert_close(state, expected_state, atol=ATOL, rtol=RTOL)
    (output.square().sum() + sum(s.sum() for s in states)).backward()
    (expected.square().sum() + sum(s.sum() for s in final_states(expected_final))).backward()
    torch.testing.assert_close(x.grad, x_reference.grad, atol=ATOL, rtol=RTOL)
    for parameter, reference_parameter in zip(
        layer.rnn.parameters(), reference.parameters(), strict=True
    ):
        torch.testing.assert_close(parameter.grad, reference_parameter.grad, atol=ATOL, rtol=RTOL)


@KINDS
def test_initial_state_is_torchs_hx(kind):
    layer = built(kind, return_state=True)
    x = torch.randn(2, 4, 3)
    states = [torch.randn(2, 4) for _ in layer.state_names]
    output, *final = layer(x, initial_state=states)
    hx = tuple(s.unsqueeze(0) for s in states)
    _, expected = torch_copy(layer)(x, hx if kind == "lstm" else hx[0])
    torch.testing.assert_close(final, final_states(expected), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(output, final[0])


@KINDS
def test_keras_initial_weights(kind):
    layer = built(kind)
    recurrent = layer.rnn.weight_hh_l0  # (G*units, units): orthonormal columns
    torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(4), atol=1e-5, rtol=0)
    fresh = LAYERS[kind]()
    fresh(torch.zeros(1, 2, 3))
    expected_bias = torch.zeros_like(fresh.rnn.bias_ih_l0)
    if kind == "lstm":
        expected_bias[4:8] = 1.0  # forget gate (Keras' unit_forget_bias)
    assert torch.equal(fresh.rnn.bias_ih_l0, expected_bias)
    assert not fresh.rnn.bias_hh_l0.any()


def test_without_bias_matches_torch():
    layer = LSTM(4, use_bias=False)
    x = torch.randn(2, 5, 3)
    output = layer(x)
    assert [name for name, _ in layer.named_parameters()] == [
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
    ]
    torch.testing.assert_close(output, torch_copy(layer)(x)[1][0][0], atol=ATOL, rtol=RTOL)


# -- the step loop --------------------------------------------------------------------------------
@KINDS
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("side", [None, "right", "left", "holes"])
def test_step_loop_equals_fused_kernel(kind, go_backwards, side, monkeypatch):
    fused = built(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    loop = built(kind, return_sequences=True, return_state=True, go_backwards=go_backwards)
    run_step_loop(loop, monkeypatch)
    x, mask, _ = padded_batch([5, 2, 4, 0], 5, side or "right")
    mask = None if side is None else mask
    x_fused, x_loop = x.clone().requires_grad_(), x.clone().requires_grad_()
    fused_results, loop_results = fused(x_fused, mask=mask), loop(x_loop, mask=mask)
    torch.testing.assert_close(loop_results, fused_results, atol=ATOL, rtol=RTOL)
    sum(r.square().sum() for r in fused_results).backward()
    sum(r.square().sum() for r in loop_results).backward()
    torch.testing.assert_close(x_loop.grad, x_fused.grad, atol=ATOL, rtol=RTOL)
    for loop_parameter, fused_parameter in zip(loop.parameters(), fused.parameters(), strict=True):
        torch.testing.assert_close(loop_parameter.grad, fused_parameter.grad, atol=ATOL, rtol=RTOL)


# -- masks ----------------------------------------------------------------------------------------
@KINDS
@pytest.mark.parametrize("side", ["right", "left", "holes"])
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_padded_steps_never_change_a_result(kind, side, path, monkeypatch):
    layer = built(kind, return_sequences=True, return_state=True, zero_output_for_mask=True)
    if path == "loop":
        run_step_loop(layer, monkeypatch)
    x, mask, sequences = padded_batch([6, 3, 1, 5], 6, side)
    output, *states = layer(x, mask=mask)
    assert not output[~mask].any()  # zeros at padded steps (Keras' zero_output_for_mask=True)
    for row, sequence in enumerate(sequences):
        alone, *alone_states = layer(sequence)
        torch.testing.assert_close(output[row, mask[row]], alone[0], atol=ATOL, rtol=RTOL)
        for state, alone_state in zip(states, alone_states, strict=True):
            torch.testing.assert_close(state[row], alone_state[0], atol=ATOL, rtol=RTOL)


@KINDS
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_a_row_without_real_steps_gives_zeros_and_finite_gradients(kind, path, monkeypatch):
    layer = built(kind, return_sequences=True, return_state=True)
    if path == "loop":
        run_step_loop(layer, monkeypatch)
    x = torch.randn(2, 4, 3, requires_grad=True)
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    output, *states = layer(x, mask=mask)
    assert not output[1].any() and all(not s[1].any() for s in states)
    (output.sum() + sum(s.sum() for s in states)).backward()
    assert torch.isfinite(x.grad).all() and not x.grad[1].any() and not x.grad[0, 2:].any()


def test_compute_mask_follows_return_sequences_and_go_backwards():
    x, mask = torch.zeros(2, 3, 1), torch.tensor([[True, True, False], [True, False, False]])
    assert LSTM(2).compute_mask(x, mask) is None
    assert LSTM(2, return_sequences=True).compute_mask(x, None) is None
    assert torch.equal(LSTM(2, return_sequences=True).compute_mask(x, mask), mask)
    assert torch.equal(
        GRU(2, return_sequences=True, go_backwards=True).compute_mask(x, mask), mask.flip(1)
    )


# -- go_backwards, states, dropout ----------------------------------------------------------------
@KINDS
def test_go_backwards_equals_running_on_the_reversed_input(kind):
    backwards = built(kind, return_sequences=True, go_backwards=True)
    forwards = built(kind, return_sequences=True)
    x, mask, _ = padded_batch([4, 2], 4, "right")
    torch.testing.assert_close(backwards(x), forwards(x.flip(1)), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(
        backwards(x, mask=mask), forwards(x.flip(1), mask=mask.flip(1)), atol=ATOL, rtol=RTOL
    )


@KINDS
def test_stateful_carries_states_across_batches_and_reset_clears_them(kind):
    stateful = built(kind, stateful=True, return_state=True)
    plain = built(kind, return_state=True)
    first, second = torch.randn(2, 3, 3), torch.randn(2, 4, 3)
    stateful(first)
    carried = stateful(second)
    assert all(not s.requires_grad for s in stateful.states)  # kept detached
    torch.testing.assert_close(carried, plain(torch.cat([first, second], 1)), atol=ATOL, rtol=RTOL)
    stateful.reset_states()
    assert stateful.states is None
    torch.testing.assert_close(stateful(second), plain(second), atol=ATOL, rtol=RTOL)
    with pytest.raises(ShapeError, match=r"batch of 2, but received a batch of 5.*reset_states"):
        stateful(torch.randn(5, 3, 3))
    stateful.reset_states()
    assert stateful(torch.randn(5, 3, 3))[0].shape == (5, 4)


def test_stateful_states_kept_under_inference_mode_can_be_trained_on():
    layer = LSTM(3, stateful=True)
    layer(torch.randn(2, 4, 3))
    with torch.inference_mode():  # e.g. a validation pass
        layer(torch.randn(2, 4, 3))
    assert layer.states[0].is_inference()
    layer(torch.randn(2, 4, 3)).sum().backward()
    assert layer.rnn.weight_ih_l0.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda: SimpleRNN(4, return_state=True), [(2, 4), (2, 4)]),
        (lambda: GRU(4, return_state=True, return_sequences=True), [(2, 5, 4), (2, 4)]),
        (lambda: LSTM(4, return_state=True), [(2, 4), (2, 4), (2, 4)]),
        (lambda: LSTM(4, return_state=True, return_sequences=True), [(2, 5, 4), (2, 4), (2, 4)]),
        (lambda: LSTM(4, return_sequences=True), [(2, 5, 4)]),
    ],
)
def test_return_state_shapes(make, shapes):
    result = make()(torch.randn(2, 5, 3))
    result = result if isinstance(result, tuple) else (result,)
    assert [tuple(r.shape) for r in result] == shapes


def test_input_dropout_drops_the_same_features_at_every_step():
    torch.manual_seed(0)
    layer = SimpleRNN(3, activation="relu", use_bias=False, dropout=0.5, return_sequences=True)
    layer(torch.zeros(1, 1, 3))
    with torch.no_grad():  # h = relu(x): the output shows the dropout mask
        layer.rnn.weight_ih_l0.copy_(torch.eye(3))
        layer.rnn.weight_hh_l0.zero_()
    output = layer(torch.ones(400, 5, 3))
    assert torch.equal(output, output[:, :1].expand_as(output))  # one mask for all steps
    assert set(output.unique().tolist()) == {0.0, 2.0}
    assert abs((output == 0).float().mean().item() - 0.5) < 0.05
    assert torch.equal(layer.eval()(torch.ones(2, 5, 3)), torch.ones(2, 5, 3))


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn_tanh"])
def test_recurrent_dropout_acts_only_while_training(kind):
    dropped = built(kind, recurrent_dropout=0.5, return_sequences=True)
    plain = built(kind, return_sequences=True)
    x = torch.randn(8, 6, 3)
    torch.manual_seed(1)
    training = dropped(x)
    torch.manual_seed(1)
    assert torch.equal(dropped(x), training)  # seeded runs repeat
    assert not torch.allclose(training, plain(x), atol=1e-3)
    training.sum().backward()
    assert torch.isfinite(dropped.rnn.weight_hh_l0.grad).all()
    torch.testing.assert_close(dropped.eval()(x), plain(x), atol=ATOL, rtol=RTOL)


# -- in a model -----------------------------------------------------------------------------------
@pytest.mark.parametrize("recurrent", [lambda: LSTM(16), lambda: GRU(16), lambda: SimpleRNN(16)])
def test_embedding_mask_makes_padded_and_unpadded_predictions_equal(recurrent):
    torch.manual_seed(0)
    model = models.Sequential(
        [Embedding(20, 8, mask_zero=True, input_shape=(None,)), recurrent(), Dense(2)]
    )
    ids = np.array([[4, 9, 7]])
    padded = np.array([[4, 9, 7, 0, 0], [0, 0, 4, 9, 7]])
    expected = model.predict(ids)
    np.testing.assert_allclose(model.predict(padded), np.repeat(expected, 2, 0), atol=ATOL)


def test_masked_lstm_model_trains_with_fit():
    torch.manual_seed(0)
    generator = np.random.default_rng(0)
    lengths = generator.integers(2, 9, size=128)
    ids = generator.integers(1, 10, size=(128, 8))
    ids[np.arange(8) >= lengths[:, None]] = 0  # right padding
    labels = (ids[np.arange(128), lengths - 1] >= 5).astype(np.int64)  # is the last real id >= 5?
    model = models.Sequential(
        [Embedding(10, 8, mask_zero=True), LSTM(16), Dense(2, activation="softmax")]
    )
    model.compile(optimizer=Adam(0.01), loss="sparse_categorical_crossentropy", device="cpu")
    history = model.fit(ids, labels, batch_size=32, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


# -- configuration and errors ---------------------------------------------------------------------
@KINDS
def test_config_is_json_and_rebuilds_the_layer(kind):
    layer = LAYERS[kind](return_sequences=True, dropout=0.1)
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer)(**config)
    assert clone.get_config() == layer.get_config()
    assert clone(torch.randn(2, 5, 3)).shape == (2, 5, 4)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LSTM(0), "expected a positive integer, received units=0"),
        (lambda: GRU(2.5), "received units=2.5"),
        (lambda: SimpleRNN(2, dropout=1.0), r"expected a rate in \[0, 1\), received dropout=1.0"),
        (lambda: LSTM(2, recurrent_dropout=-0.1), "received recurrent_dropout=-0.1"),
        (lambda: SimpleRNN(2, activation="sigmoid"), "received activation='sigmoid'"),
        (
            lambda: LSTM(2, activation="relu"),
            "expected activation='tanh'.*received activation='relu'",
        ),
        (lambda: GRU(2, recurrent_activation="hard_sigmoid"), "recurrent_activation='sigmoid'"),
    ],
)
def test_invalid_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_shape_errors_name_the_shapes_and_the_fix():
    layer = LSTM(4)
    with pytest.raises(ShapeError, match=r"\(batch, steps, features\), received shape \(None, 5\)"):
        layer(torch.randn(2, 5))
    layer(torch.randn(2, 5, 3))
    with pytest.raises(ShapeError, match=r"received shape \(2, 5\).*x.unsqueeze\(-1\)"):
        layer(torch.randn(2, 5))
    with pytest.raises(ShapeError, match="built for 3 features per step"):
        layer(torch.randn(2, 5, 4))
    with pytest.raises(ShapeError, match=r"mask of shape \(batch, steps\) = \(2, 5\)"):
        layer(torch.randn(2, 5, 3), mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(
        ShapeError, match=r"initial_state as \[h, c\].*received shapes \[\(2, 4\)\]"
    ):
        layer(torch.randn(2, 5, 3), initial_state=[torch.zeros(2, 4)])


def test_a_stateful_lstm_trains_with_fit_after_the_dry_runs():
    # Sequential.build and the task's shape check run 2 samples through the model; the stateful
    # layer must forget them, or the first batch of 4 would clash with the kept batch of 2.
    from ember import layers, models

    torch.manual_seed(0)
    model = models.Sequential([layers.LSTM(4, stateful=True, input_shape=(5, 3)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = torch.randn(8, 5, 3), torch.randn(8, 1)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
