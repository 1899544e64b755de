"""``Normalization.adapt`` on a scalar (a number or a 0-d array) is an ember DataError naming
rank 0 and the fix, not a raw ``TypeError`` from iterating it."""

import numpy as np
import pytest
import torch

from ember import layers
from ember.errors import DataError


@pytest.mark.parametrize("data", [3.0, 7, np.float64(3.0), np.array(2.5), torch.tensor(1.0)])
def test_a_scalar_is_a_data_error_naming_rank_zero(data):
    norm = layers.Normalization()
    with pytest.raises(DataError, match=r"received a scalar \(rank 0\).*Fix: pass an array"):
        norm.adapt(data)
    assert norm.mean is None  # nothing learned


def test_a_batch_of_samples_still_adapts():
    norm = layers.Normalization(axis=None)
    norm.adapt(np.array([1.0, 2.0, 3.0, 4.0]))
    assert norm.mean.item() == pytest.approx(2.5)
    assert norm.variance.item() == pytest.approx(1.25)  # biased, as Keras
