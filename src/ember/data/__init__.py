"""Inputs -> batches on the device, splits and batch augmentation."""

from ember.data.batches import TensorBatches, as_batches, to_tensor

__all__ = ["TensorBatches", "as_batches", "to_tensor"]
