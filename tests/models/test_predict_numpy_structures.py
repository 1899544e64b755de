"""``predict`` on several numpy inputs (a dict keyed by the Input names, a list) returns numpy, as Keras 3 does, with Keras' numbers (torch backend, weights moved with
set_weights); tensors in still give tensors out."""

import os

import numpy as np
import pytest
import torch

import ember

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
RNG = np.random.default_rng(0)
IMAGE, META = RNG.normal(size=(5, 4)).astype("float32"), RNG.normal(size=(5, 2)).astype("float32")


def two_inputs(library):
    image = library.Input(shape=(4,), name="image")
    meta = library.Input(shape=(2,), name="meta")
    merged = library.layers.concatenate([library.layers.Dense(3)(image), meta])
    return library.Model([image, meta], library.layers.Dense(2)(merged))


@pytest.fixture(scope="module")
def models():
    theirs, ours = two_inputs(keras), two_inputs(ember)
    ours([torch.from_numpy(IMAGE), torch.from_numpy(META)])
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize(
    "structure",
    [
        lambda: {"image": IMAGE, "meta": META},
        lambda: [IMAGE, META],
    ],
    ids=["dict", "list"],
)
def test_numpy_inputs_give_numpy_outputs_equal_to_keras(models, structure):
    theirs, ours = models
    expected = theirs.predict(structure(), verbose=0)
    actual = ours.predict(structure(), verbose=0)
    assert type(actual) is type(expected) is np.ndarray
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_tensor_inputs_still_give_tensors(models):
    _, ours = models
    inputs = {"image": torch.from_numpy(IMAGE), "meta": torch.from_numpy(META)}
    assert isinstance(ours.predict(inputs, verbose=0), torch.Tensor)
