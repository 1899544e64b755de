"""Shared test set-up: ``import ember`` first, so that its torchvision import hook is in place
before any test module imports torchmetrics (which imports torchvision; see ember.vision_imports)."""

import pytest
import torch

import ember  # noqa: F401


@pytest.fixture
def one_torch_thread():
    """Tiny networks gain nothing from a second torch thread, and on a busy 2-core machine two
    threads spin against each other (steps ten times slower at a load of 4, measured). Use it
    with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
