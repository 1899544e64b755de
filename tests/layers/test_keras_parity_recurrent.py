"""Keras 3 (torch backend) as the reference for SimpleRNN, LSTM, GRU, Bidirectional,
MultiHeadAttention and the transformer blocks: weights moved in with set_weights (Keras' gate
orders and single biases), outputs equal within 1e-5, masks included.

The other layers: tests/models/test_keras_parity.py.
"""

import os

import numpy as np
import pytest
import torch

import ember
from ember import layers
from ember.layers.weight_arrays import get_weights, set_weights


def torch_global_state() -> dict:
    """What other tests rely on and a library could change at import."""
    return {
        "default_dtype": torch.get_default_dtype(),
        "default_device": str(torch.get_default_device()),
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "grad": torch.is_grad_enabled(),
        "inference_mode": torch.is_inference_mode_enabled(),
        "cudnn": (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic),
        "matmul_precision": torch.get_float32_matmul_precision(),
    }


TORCH_STATE_BEFORE_KERAS = torch_global_state()
os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (after the backend is chosen, and after the snapshot)

TOLERANCE = 1e-5
# Keras 3.15 converts its tensors with np.array(x, copy=False), which numpy 2 warns about.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
RECURRENT = ["SimpleRNN", "LSTM", "GRU"]
# Right padding, none, and a sequence that is all padding.
MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], bool)


def test_keras_runs_on_torch_and_leaves_torch_global_state_alone():
    assert keras.backend.backend() == "torch"
    keras.layers.LSTM(2)(np.zeros((1, 3, 2), "float32"))  # a call too, not only the import
    assert torch_global_state() == TORCH_STATE_BEFORE_KERAS


def sequences(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def as_list(outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [
        keras.ops.convert_to_numpy(o) if not torch.is_tensor(o) else o.detach().numpy()
        for o in outputs
    ]


def moved(keras_layer, ember_layer, *inputs, seed=0):
    """Builds both on ``inputs``, gives Keras random weights and moves them into ember; ember's
    get_weights must give Keras' arrays back exactly (the inverse layout)."""
    keras_layer(*inputs)
    with torch.no_grad():
        ember_layer.eval()(*map(torch.as_tensor, inputs))
    rng = np.random.default_rng(seed)
    keras_layer.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in keras_layer.weights]
    )
    set_weights(ember_layer, keras_layer.get_weights())
    for ours, theirs in zip(get_weights(ember_layer), keras_layer.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def pair(name, *args, **config):
    """The Keras layer and the ember layer of that name, with the same arguments."""
    return getattr(keras.layers, name)(*args, **config), getattr(layers, name)(*args, **config)


def assert_parity(keras_layer, ember_layer, x, mask=None, **kwargs):
    moved(keras_layer, ember_layer, x)
    keras_kwargs = kwargs if mask is None else {**kwargs, "mask": mask}
    expected = as_list(keras_layer(x, **keras_kwargs))
    ember_kwargs = keras_kwargs if mask is None else {**kwargs, "mask": torch.as_tensor(mask)}
    with torch.no_grad():
        actual = as_list(ember_layer(torch.as_tensor(x), **ember_kwargs))
    assert len(actual) == len(expected)
    for ours, theirs in zip(actual, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=TOLERANCE)


# -- SimpleRNN, LSTM, GRU -------------------------------------------------------------------------
@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_gate_orders_and_biases(name, return_sequences, go_backwards):
    # LSTM gates i, f, c, o and one bias; GRU gates z, r, h and reset_after=True's two biases.
    config = {
        "return_sequences": return_sequences,
        "go_backwards": go_backwards,
        "return_state": True,
    }
    assert_parity(*pair(name, 5, **config), sequences(3, 6, 4))


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize(
    "return_sequences, go_backwards", [(False, False), (True, False), (True, True)]
)
def test_recurrent_masks(name, return_sequences, go_backwards):
    # A padded step repeats the previous output (the initial state before any real step).
    config = {"return_sequences": return_sequences, "go_backwards": go_backwards}
    assert_parity(*pair(name, 5, **config), sequences(3, 6, 4), mask=MASK)


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_zero_output_for_mask(name):
    config = {"return_sequences": True, "zero_output_for_mask": True}
    assert_parity(*pair(name, 5, **config), sequences(3, 6, 4), mask=MASK)


def test_simple_rnn_relu_and_no_bias():
    config = {"activation": "relu", "use_bias": False, "return_sequences": True}
    assert_parity(*pair("SimpleRNN", 4, **config), sequences(2, 5, 3))
    config = {"use_bias": False}
    assert_parity(*pair("GRU", 4, **config), sequences(2, 5, 3))


@pytest.mark.parametrize(
    "merge_mode, return_sequences",
    [("concat", True), ("sum", False), ("ave", True), ("mul", False)],
)
def test_bidirectional(merge_mode, return_sequences):
    keras_layer = keras.layers.Bidirectional(
        keras.layers.LSTM(4, return_sequences=return_sequences), merge_mode=merge_mode
    )
    ember_layer = layers.Bidirectional(
        layers.LSTM(4, return_sequences=return_sequences), merge_mode=merge_mode
    )
    assert_parity(keras_layer, ember_layer, sequences(3, 6, 4), mask=MASK)


def test_masked_text_model_weights_move_from_keras_and_back_with_equal_predictions():
    def stack(library):
        return [
            library.Embedding(20, 8, mask_zero=True),
            library.LSTM(5, return_sequences=True),
            library.Bidirectional(library.GRU(4)),
            library.Dense(3),
        ]

    keras_model = keras.Sequential([keras.Input((6,), dtype="int32"), *stack(keras.layers)])
    ember_model = ember.Sequential(stack(layers))
    ember_model.build((6,))
    ids = np.array([[4, 9, 7, 0, 0, 0], [3, 1, 4, 1, 5, 9], [0, 0, 2, 6, 5, 3]])
    rng = np.random.default_rng(0)
    keras_model.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in keras_model.weights]
    )
    ember_model.set_weights(keras_model.get_weights())
    expected = keras.ops.convert_to_numpy(keras_model(ids))
    np.testing.assert_allclose(ember_model.predict(ids), expected, atol=TOLERANCE)
    ember_model.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in keras_model.weights]
    )
    keras_model.set_weights(ember_model.get_weights())
    expected = keras.ops.convert_to_numpy(keras_model(ids))
    np.testing.assert_allclose(ember_model.predict(ids), expected, atol=TOLERANCE)


# -- attention ------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [{}, {"value_dim": 3, "output_shape": 8}, {"use_bias": False}])
def test_multi_head_attention(config):
    query, value = sequences(2, 5, 6), sequences(2, 4, 7, seed=2)
    keras_layer, ember_layer = pair("MultiHeadAttention", 2, 4, **config)
    moved(keras_layer, ember_layer, query, value)
    expected = keras.ops.convert_to_numpy(keras_layer(query, value))
    with torch.no_grad():
        actual = ember_layer(torch.as_tensor(query), torch.as_tensor(value))
    np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)


def test_multi_head_attention_masks():
    x = sequences(2, 5, 6)
    keras_layer, ember_layer = pair("MultiHeadAttention", 2, 4)
    moved(keras_layer, ember_layer, x, x)
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    ours = {"query_mask": torch.as_tensor(padding), "value_mask": torch.as_tensor(padding)}

    def keras_attention(**kwargs):
        # Keras reads query and value masks from the tensors' Keras masks (Masking sets one;
        # the layer removes it from the tensor, so each call gets a new one).
        masked = keras.layers.Masking(0.0)(np.where(padding[..., None], x, 0.0))
        return keras_layer(masked, masked, **kwargs)

    for causal in (False, True):
        with torch.no_grad():
            actual = ember_layer(
                torch.as_tensor(x), torch.as_tensor(x), use_causal_mask=causal, **ours
            )
        # Padded queries too: Keras' explicit softmax (used with return_attention_scores) gives a
        # query without keys zero attention, as ember does. (Its fused path, without scores,
        # averages every value there instead.)
        expected, _ = keras_attention(use_causal_mask=causal, return_attention_scores=True)
        np.testing.assert_allclose(actual, keras.ops.convert_to_numpy(expected), atol=TOLERANCE)
        expected = keras.ops.convert_to_numpy(keras_attention(use_causal_mask=causal))
        np.testing.assert_allclose(actual[padding], expected[padding], atol=TOLERANCE)


def test_transformer_encoder_lists_weights_in_keras_hubs_order():
    # KerasHub's TransformerEncoder (not installed here) builds self_attention,
    # self_attention_layer_norm, feedforward_layer_norm, then the two Dense layers; a post-LN
    # block computed with those Keras layers is the reference.
    x = sequences(2, 5, 8)
    attention, attention_norm, feedforward_norm = (
        keras.layers.MultiHeadAttention(2, 4),
        keras.layers.LayerNormalization(epsilon=1e-5),
        keras.layers.LayerNormalization(epsilon=1e-5),
    )
    intermediate, output = keras.layers.Dense(16, activation="relu"), keras.layers.Dense(8)

    def block(x):  # post-LN, KerasHub's default
        h = attention_norm(x + attention(x, x))
        return feedforward_norm(h + output(intermediate(h)))

    x = keras.ops.convert_to_tensor(x)
    block(x)  # builds the Keras layers
    keras_layers = (attention, attention_norm, feedforward_norm, intermediate, output)
    rng = np.random.default_rng(0)
    for layer in keras_layers:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.weights])
    expected = keras.ops.convert_to_numpy(block(x))
    encoder = layers.TransformerEncoder(16, num_heads=2)
    encoder(x)
    set_weights(encoder, [w for layer in keras_layers for w in layer.get_weights()])
    with torch.no_grad():
        actual = encoder.eval()(x)
    np.testing.assert_allclose(actual, expected, atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_masks_with_initial_states(name, return_sequences):
    # Left padding and a row without real steps: zeros come out before the first real step,
    # while the states stay the initial ones.
    mask = np.array([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]], bool)
    count = 2 if name == "LSTM" else 1
    states = [sequences(3, 5, seed=9 + i) for i in range(count)]
    config = {"return_sequences": return_sequences, "return_state": True}
    keras_layer, ember_layer = pair(name, 5, **config)
    x = sequences(3, 6, 4)
    moved(keras_layer, ember_layer, x)
    expected = as_list(keras_layer(x, mask=mask, initial_state=states))
    with torch.no_grad():
        actual = as_list(
            ember_layer(
                torch.as_tensor(x),
                mask=torch.as_tensor(mask),
                initial_state=[torch.as_tensor(s) for s in states],
            )
        )
    for ours, theirs in zip(actual, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=TOLERANCE)
