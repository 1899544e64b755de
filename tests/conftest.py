"""Shared test set-up: ``import ember`` first, so that its torchvision import hook is in place
before any test module imports torchmetrics (which imports torchvision; see ember.vision_imports)."""

import ember  # noqa: F401
