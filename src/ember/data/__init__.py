"""Inputs -> batches on the device, splits and batch augmentation."""

from ember.data.augment import (
    Augment,
    GaussianNoise,
    RandomCrop,
    RandomErasing,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from ember.data.batches import TensorBatches, as_batches, to_tensor
from ember.data.splits import train_test_split, train_val_test_split, validation_split

__all__ = [
    "Augment",
    "GaussianNoise",
    "RandomCrop",
    "RandomErasing",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "TensorBatches",
    "as_batches",
    "to_tensor",
    "train_test_split",
    "train_val_test_split",
    "validation_split",
]
