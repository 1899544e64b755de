"""``ember.regularizers`` reads as Keras 3's ``keras.regularizers``: ``l1_l2`` is ``L1L2`` with
Keras 3's defaults (0.0 each), and every shortcut gives Keras' penalty (torch backend)."""

import os

import numpy as np
import pytest
import torch

from ember import regularizers
from ember.layers import regularizers as layer_regularizers

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
WEIGHT = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")


@pytest.mark.parametrize(
    "name, kwargs",
    [("l1_l2", {}), ("l1_l2", {"l1": 0.3}), ("l1_l2", {"l2": 0.2}), ("l1", {}), ("l2", {})],
)
def test_shortcuts_have_keras_defaults_and_penalties(name, kwargs):
    ours, theirs = (
        getattr(regularizers, name)(**kwargs),
        getattr(keras.regularizers, name)(**kwargs),
    )
    assert ours.get_config() == pytest.approx(theirs.get_config())
    expected = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(WEIGHT)))
    assert ours(torch.from_numpy(WEIGHT)).item() == pytest.approx(float(expected), rel=1e-6)


def test_l1_l2_is_the_l1l2_class_as_in_keras():
    assert regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.l1_l2().get_config() == {"l1": 0.0, "l2": 0.0}


@pytest.mark.parametrize("name", ["L1L2", "l1l2", "L1", "l1", "L2", "l2"])
def test_get_by_name_gives_keras_3_defaults(name):
    ours, theirs = layer_regularizers.get(name), keras.regularizers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.get_config() == pytest.approx(theirs.get_config())
