"""Keras 3 (torch backend) as the reference for masked sequence losses and metrics: a model whose
output carries a mask (Embedding(mask_zero=True) -> recurrent layers with return_sequences -> a
per-step head) weights its loss and accuracy per step by the mask, with Keras' normalisation
("sum_over_batch_size": divided by the batch's real steps) and weights; weights are moved in
with set_weights. Models without an output mask keep the fused logits path and no hook.
"""

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ember
from ember.tasks.masking import output_mask

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (after the backend is chosen)

TOLERANCE = 1e-5
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
VOCABULARY, CLASSES, STEPS = 12, 5, 7


def padded_batch(samples=10, seed=0):
    """Token ids padded at the end (0 is padding), lengths 1 to STEPS, one sequence of each."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, STEPS + 1, samples)
    lengths[:2] = (1, STEPS)
    x = np.zeros((samples, STEPS), "int32")
    for row, length in enumerate(lengths):
        x[row, :length] = rng.integers(1, VOCABULARY, length)
    return x


def labels_like(keras_model, x, seed=1):
    """Labels (N, STEPS): Keras' own prediction at about half of the steps, so that the
    accuracy is neither 0 nor 1, and random classes elsewhere (padded steps included)."""
    rng = np.random.default_rng(seed)
    predicted = keras.ops.convert_to_numpy(keras_model(x)).argmax(-1)
    random = rng.integers(0, CLASSES, x.shape)
    return np.where(rng.random(x.shape) < 0.5, predicted, random).astype("int64")


def functional(library):
    """The seq2seq_timedistributed example's model, in Keras or ember."""
    inputs = library.Input(shape=(None,), dtype="int32")
    x = library.layers.Embedding(VOCABULARY, 8, mask_zero=True)(inputs)
    x = library.layers.GRU(6, return_sequences=True)(x)
    dense = library.layers.Dense(CLASSES, activation="softmax")
    return library.Model(inputs, library.layers.TimeDistributed(dense)(x))


def sequential(library, recurrent="LSTM", return_sequences=True):
    """Embedding(mask_zero) -> a recurrent layer -> Dense(softmax), in Keras or ember."""
    return library.Sequential(
        [
            library.layers.Embedding(VOCABULARY, 8, mask_zero=True),
            getattr(library.layers, recurrent)(6, return_sequences=return_sequences),
            library.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def compiled_pair(build, x):
    """The same model in Keras and in ember, Keras' weights moved into ember."""
    keras_model, ember_model = build(keras), build(ember)
    keras_model(x)
    ember_model(torch.as_tensor(x))
    ember_model.set_weights(keras_model.get_weights())
    for model in (keras_model, ember_model):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return keras_model, ember_model


def assert_same_evaluation(keras_model, ember_model, x, y, **kwargs):
    # Keras multiplies sample weights by the mask in place: it gets its own copy.
    keras_kwargs = {key: np.copy(value) for key, value in kwargs.items()}
    keras_kwargs["batch_size"] = kwargs["batch_size"]
    expected = keras_model.evaluate(x, y, verbose=0, return_dict=True, **keras_kwargs)
    actual = ember_model.evaluate(x, y, verbose=0, return_dict=True, **kwargs)
    assert actual["loss"] == pytest.approx(expected["loss"], abs=TOLERANCE)
    assert actual["accuracy"] == pytest.approx(expected["accuracy"], abs=TOLERANCE)
    return actual


@pytest.fixture(scope="module")
def example():
    """The example's model in Keras and ember with the same weights, a padded batch, labels."""
    x = padded_batch()
    keras_model, ember_model = compiled_pair(functional, x)
    return keras_model, ember_model, x, labels_like(keras_model, x)


@pytest.mark.parametrize("batch_size", [4, 10])
def test_functional_masked_loss_and_accuracy_equal_keras(example, batch_size):
    # batch_size 4: three batches with different numbers of real steps, each normalised by its
    # own, then averaged by batch size (Keras' loss tracker).
    keras_model, ember_model, x, y = example
    results = assert_same_evaluation(keras_model, ember_model, x, y, batch_size=batch_size)
    correct = ember_model.predict(x).argmax(-1) == y
    assert results["accuracy"] == pytest.approx(correct[x != 0].mean(), abs=1e-6)
    assert results["accuracy"] != pytest.approx(correct.mean(), abs=1e-3)  # padding counts not


@pytest.mark.parametrize("recurrent", ["LSTM", "SimpleRNN"])
def test_sequential_ending_in_softmax_is_masked_from_its_probabilities(recurrent):
    # The fused logits skip the last layer's call; with an output mask the loss takes the
    # probabilities, as Keras does.
    x = padded_batch(seed=2)
    keras_model, ember_model = compiled_pair(lambda lib: sequential(lib, recurrent), x)
    y = labels_like(keras_model, x, seed=3)
    assert_same_evaluation(keras_model, ember_model, x, y, batch_size=4)
    assert output_mask(ember_model(torch.as_tensor(x))).tolist() == (x != 0).tolist()


def test_per_step_sample_weights_equal_keras(example):
    keras_model, ember_model, x, y = example
    weights = np.random.default_rng(6).random(x.shape).astype("float32")
    assert_same_evaluation(keras_model, ember_model, x, y, batch_size=4, sample_weight=weights)


def test_per_sample_weights_weigh_each_step_of_the_sample(example):
    # Keras 3 fails on (N,) weights against an (N, steps) mask; ember gives each step its
    # sample's weight, which is Keras' result for those weights repeated over the steps.
    keras_model, ember_model, x, y = example
    weights = np.random.default_rng(9).random(len(x)).astype("float32")
    repeated = np.repeat(weights[:, None], STEPS, axis=1)
    expected = keras_model.evaluate(x, y, sample_weight=repeated, verbose=0, batch_size=4)
    actual = ember_model.evaluate(x, y, sample_weight=weights, verbose=0, batch_size=4)
    assert actual[0] == pytest.approx(expected[0], abs=TOLERANCE)


def test_class_weights_weigh_each_step_by_its_label(example):
    # Keras 3 turns class_weight into one weight per sample (an argmax over the steps), which
    # fails against the mask; ember weighs each step by its own label: Keras' loss with those
    # per-step weights. One batch: fit reports the loss before its one update.
    keras_model, ember_model, x, y = example
    class_weight = {0: 2.0, 1: 0.5, 3: 3.0}
    table = np.array([class_weight.get(c, 1.0) for c in range(CLASSES)], "float32")
    expected = keras_model.evaluate(x, y, sample_weight=table[y], verbose=0, batch_size=len(x))
    try:
        history = ember_model.fit(
            x, y, class_weight=class_weight, batch_size=len(x), epochs=1, verbose=0
        )
    finally:
        ember_model.set_weights(keras_model.get_weights())  # the other tests' weights
    assert history.history["loss"][0] == pytest.approx(expected[0], abs=TOLERANCE)


def test_keras_losses_under_a_mask_equal_ember_losses():
    # Every loss's per-step values, weighted by the mask and per-step weights the Keras way.
    rng = np.random.default_rng(12)
    mask = torch.as_tensor(padded_batch(6, seed=13) != 0)
    weights = torch.as_tensor(rng.random(mask.shape).astype("float32"))
    probabilities = torch.softmax(torch.as_tensor(rng.normal(size=(6, STEPS, 3))).float(), -1)
    sparse = torch.as_tensor(rng.integers(0, 3, (6, STEPS)))
    onehot = F.one_hot(sparse, 3).float()
    values = torch.as_tensor(rng.normal(size=(6, STEPS, 2))).float()
    targets = torch.as_tensor(rng.normal(size=(6, STEPS, 2))).float()
    binary = torch.as_tensor(rng.integers(0, 2, (6, STEPS, 1))).float()
    cases = [
        ("SparseCategoricalCrossentropy", probabilities, sparse),
        ("CategoricalCrossentropy", probabilities, onehot),
        ("BinaryCrossentropy", probabilities[..., :1], binary),
        ("KLDivergence", probabilities, torch.softmax(values.repeat(1, 1, 2)[..., :3], -1)),
        ("MeanSquaredError", values, targets),
        ("MeanAbsoluteError", values, targets),
        ("Huber", values, targets),
        ("Hinge", values[..., :1], binary),
    ]
    for name, y_pred, y_true in cases:
        keras_loss, ember_loss = getattr(keras.losses, name)(), getattr(ember.losses, name)()
        keras_pred = y_pred.clone()
        keras_pred._keras_mask = mask
        for weight in (None, weights):
            # Keras multiplies the weights it is given by the mask in place: it gets a copy.
            keras_weight = None if weight is None else weight.clone()
            expected = keras.ops.convert_to_numpy(keras_loss(y_true, keras_pred, keras_weight))
            actual = ember_loss(y_pred, y_true, sample_weight=weight, mask=mask)
            assert float(actual) == pytest.approx(float(expected), abs=TOLERANCE), name


def test_a_batch_without_real_steps_has_loss_zero_as_in_keras():
    loss = ember.losses.SparseCategoricalCrossentropy()
    y_pred = torch.full((2, 3, 4), 0.25)
    mask = torch.zeros(2, 3, dtype=torch.bool)
    assert loss(y_pred, torch.zeros(2, 3), mask=mask).item() == 0.0


# -- models without an output mask run as before ------------------------------------------------
def test_a_mask_dropped_before_the_output_keeps_the_fused_loss_and_no_hook():
    # Embedding(mask_zero) -> LSTM without return_sequences: the output has no mask, so the
    # loss is the fused cross-entropy of the logits, as before, and no layer keeps a hook.
    x = padded_batch(seed=14)
    y = np.random.default_rng(15).integers(0, CLASSES, len(x))
    model = sequential(ember, return_sequences=False)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0, batch_size=len(x))
    with torch.no_grad():
        expected = F.cross_entropy(model.logits(torch.as_tensor(x)), torch.as_tensor(y))
    assert loss == expected.item()  # bit for bit: the same fused call
    assert all(not layer._forward_hooks for layer in model.modules())


def test_an_unmasked_model_step_is_the_plain_loss_bit_for_bit():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 3))
    task = ember.Supervised(network, "sparse_categorical_crossentropy", from_logits=True)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    task.setup((x, y), torch.device("cpu"))
    assert task.validation_step((x, y))["loss"].item() == F.cross_entropy(network(x), y).item()
    assert all(not module._forward_hooks for module in network.modules())
