"""Bidirectional against torch's bidirectional=True kernels: merges, states, masks, config."""

import json

import numpy as np
import pytest
import torch

from ember import models
from ember.errors import ConfigError, ShapeError
from ember.layers import Dense, Embedding
from ember.layers.bidirectional import Bidirectional
from ember.layers.config_values import deserialize_value, serialize_value
from ember.layers.recurrent import GRU, LSTM, SimpleRNN

ATOL, RTOL = 1e-5, 1e-5
WRAPPED = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}
KINDS = pytest.mark.parametrize("kind", list(WRAPPED))


def built(kind, merge_mode="concat", features=3, **kwargs):
    torch.manual_seed(0)
    layer = Bidirectional(WRAPPED[kind](4, **kwargs), merge_mode=merge_mode)
    layer.eval()(torch.zeros(1, 2, features))
    layer.train().reset_states()
    return layer


def torch_bidirectional(layer):
    """``nn.LSTM/GRU/RNN(bidirectional=True)`` holding ``layer``'s two directions' weights."""
    forward, backward = layer.forward_layer.rnn, layer.backward_layer.rnn
    reference = type(forward)(forward.input_size, 4, batch_first=True, bidirectional=True)
    weights = dict(forward.state_dict())
    weights.update({f"{name}_reverse": value for name, value in backward.state_dict().items()})
    reference.load_state_dict(weights)
    return reference


def directions(reference, x):
    """torch's forward and backward outputs (aligned in time) and final states."""
    output, final = reference(x)
    finals = final if isinstance(final, tuple) else (final,)
    return output[..., :4], output[..., 4:], [s[0] for s in finals], [s[1] for s in finals]


@KINDS
def test_concat_with_states_matches_torch_bidirectional_kernel(kind):
    layer = built(kind, return_sequences=True, return_state=True)
    reference = torch_bidirectional(layer)
    x = torch.randn(2, 6, 3, requires_grad=True)
    x_reference = x.detach().clone().requires_grad_()
    output, *states = layer(x)
    expected, expected_final = reference(x_reference)
    forward_states, backward_states = directions(reference, x_reference)[2:]
    torch.testing.assert_close(output, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(states, [*forward_states, *backward_states], atol=ATOL, rtol=RTOL)
    output.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(x.grad, x_reference.grad, atol=ATOL, rtol=RTOL)
    grads = [
        p.grad for p in (*layer.forward_layer.parameters(), *layer.backward_layer.parameters())
    ]
    torch.testing.assert_close(
        grads, [p.grad for p in reference.parameters()], atol=ATOL, rtol=RTOL
    )


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_merge_modes_match_manual_forward_and_backward_runs(merge_mode, return_sequences):
    layer = built("lstm", merge_mode, return_sequences=return_sequences)
    x = torch.randn(3, 5, 3)
    forward, backward, forward_states, backward_states = directions(torch_bidirectional(layer), x)
    if not return_sequences:  # the last output of each direction: its final h
        forward, backward = forward_states[0], backward_states[0]
    expected = {
        "concat": torch.cat([forward, backward], -1),
        "sum": forward + backward,
        "mul": forward * backward,
        "ave": (forward + backward) / 2,
        None: (forward, backward),
    }[merge_mode]
    torch.testing.assert_close(layer(x), expected, atol=ATOL, rtol=RTOL)


def test_return_state_without_merge_returns_both_outputs_then_states():
    result = built("gru", None, return_state=True)(torch.randn(2, 5, 3))
    assert [tuple(r.shape) for r in result] == [(2, 4)] * 4  # forward, backward, h_f, h_b


@KINDS
@pytest.mark.parametrize("side", ["right", "left"])
def test_masked_steps_reach_neither_direction(kind, side):
    layer = built(kind, return_sequences=True, return_state=True)
    lengths, steps = [5, 2, 3], 5
    x = torch.randn(3, steps, 3) * 10  # junk in the padding
    mask = torch.zeros(3, steps, dtype=torch.bool)
    for row, length in enumerate(lengths):
        mask[row, :length] = True
    mask = mask if side == "right" else mask.flip(1)
    output, *states = layer(x, mask=mask)
    assert not output[~mask].any()
    assert torch.equal(layer.compute_mask(x, mask), mask)
    for row in range(3):
        alone, *alone_states = layer(x[row, mask[row]].unsqueeze(0))
        torch.testing.assert_close(output[row, mask[row]], alone[0], atol=ATOL, rtol=RTOL)
        torch.testing.assert_close([s[row] for s in states], [s[0] for s in alone_states])


def test_initial_state_goes_forward_then_backward():
    layer = built("lstm", return_state=True)
    x = torch.randn(2, 4, 3)
    states = [torch.randn(2, 4) for _ in range(4)]
    _, *final = layer(x, initial_state=states)
    expected_forward = layer.forward_layer(x, initial_state=states[:2])[1:]
    expected_backward = layer.backward_layer(x, initial_state=states[2:])[1:]
    torch.testing.assert_close(final, [*expected_forward, *expected_backward])
    with pytest.raises(
        ShapeError, match=r"4 tensors \(forward, then backward states\), received 2"
    ):
        layer(x, initial_state=states[:2])


def test_backward_layer_defaults_to_a_reversed_copy_or_is_given():
    layer = Bidirectional(LSTM(4, name="encoder"))
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert layer.backward_layer.name == "backward_encoder"
    assert layer.forward_layer.rnn is None  # built on first use
    given = GRU(6, go_backwards=True)
    layer = Bidirectional(GRU(4), backward_layer=given)
    assert layer.backward_layer is given
    assert layer(torch.randn(2, 5, 3)).shape == (2, 10)


def test_stateful_bidirectional_carries_and_resets_both_directions():
    layer = built("gru", stateful=True)
    layer(torch.randn(2, 3, 3))
    assert [tuple(s.shape) for s in layer.states] == [(2, 4), (2, 4)]
    layer.reset_states()
    assert layer.states is None


@pytest.mark.parametrize("give_backward", [False, True])
def test_config_survives_json_and_rebuilds_the_same_layer(give_backward):
    backward = LSTM(4, return_sequences=True, go_backwards=True) if give_backward else None
    layer = Bidirectional(LSTM(4, return_sequences=True), "ave", backward_layer=backward)
    x = torch.randn(2, 5, 3)
    output = layer(x)
    saved = json.dumps(serialize_value(layer.get_config(), "bidirectional"))  # as model.save does
    config = {key: deserialize_value(value) for key, value in json.loads(saved).items()}
    clone = Bidirectional(**config)
    clone(x)
    clone.load_state_dict(layer.state_dict())
    torch.testing.assert_close(clone(x), output)
    assert clone.get_config() == layer.get_config()


def test_model_with_bidirectional_lstm_saves_and_loads(tmp_path):
    model = models.Sequential(
        [Embedding(20, 8, mask_zero=True, input_shape=(5,)), Bidirectional(LSTM(4)), Dense(2)]
    )
    ids = np.array([[3, 4, 5, 0, 0], [0, 6, 7, 8, 9]])
    model.save(tmp_path / "model")
    np.testing.assert_allclose(
        models.load_model(tmp_path / "model").predict(ids), model.predict(ids)
    )


def test_embedding_mask_makes_padded_and_unpadded_predictions_equal():
    torch.manual_seed(0)
    model = models.Sequential(
        [
            Embedding(20, 8, mask_zero=True, input_shape=(None,)),
            Bidirectional(LSTM(6, return_sequences=True)),
            Bidirectional(GRU(5)),
            Dense(2),
        ]
    )
    expected = model.predict(np.array([[4, 9, 7]]))
    padded = np.array([[4, 9, 7, 0, 0], [0, 0, 4, 9, 7]])
    np.testing.assert_allclose(model.predict(padded), np.repeat(expected, 2, 0), atol=ATOL)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Bidirectional(LSTM(2), merge_mode="max"), "received merge_mode='max'"),
        (lambda: Bidirectional(Dense(2)), "expected a recurrent layer.*received layer=Dense"),
        (
            lambda: Bidirectional(LSTM(2), backward_layer=LSTM(2)),
            "expected backward_layer.go_backwards=True",
        ),
        (
            lambda: Bidirectional(
                LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True)
            ),
            "expected backward_layer.return_sequences=False",
        ),
        (
            lambda: Bidirectional(LSTM(2), backward_layer=GRU(2, go_backwards=True)),
            "same states as layer",
        ),
    ],
)
def test_invalid_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_non_sequence_input_raises_shape_error():
    with pytest.raises(ShapeError, match=r"Bidirectional expects inputs of shape \(batch, steps"):
        Bidirectional(GRU(2))(torch.randn(4, 3))
