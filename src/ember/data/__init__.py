"""Inputs -> batches on the device, splits, augmentation, MixUp/CutMix, test-time augmentation."""

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
from ember.data.mixing import CutMix, MixUp, MixUpOrCutMix
from ember.data.splits import train_test_split, train_val_test_split, validation_split
from ember.data.test_time import with_test_time_augmentation

__all__ = [
    "Augment",
    "CutMix",
    "GaussianNoise",
    "MixUp",
    "MixUpOrCutMix",
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
    "with_test_time_augmentation",
]
