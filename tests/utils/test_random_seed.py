"""set_random_seed: Keras' name for seeding Python, NumPy and PyTorch at once."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ember import utils
from ember.errors import ConfigError


def test_set_random_seed_repeats_python_numpy_and_torch_draws():
    utils.set_random_seed(3)
    first = (torch.rand(2), np.random.rand(2), random.random())
    utils.set_random_seed(3)
    assert torch.equal(first[0], torch.rand(2)) and np.array_equal(first[1], np.random.rand(2))
    assert first[2] == random.random()
    with pytest.raises(ConfigError, match="received seed=-1"):
        utils.set_random_seed(-1)
