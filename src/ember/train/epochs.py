"""How many steps an epoch of training data holds (the progress bar's total, the schedules')."""

from __future__ import annotations

from ember import checks
from ember.data.batches import DeviceBatches, TensorBatches, has_length
from ember.errors import ConfigError


def epoch_steps(batches: TensorBatches | DeviceBatches, steps_per_epoch: int | None) -> int | None:
    """``steps_per_epoch`` when given, else the batches' length (None if they have none).

    A one-pass iterator (a generator) without ``steps_per_epoch`` is an error: it would be used
    up after the first epoch.

    Example:
        >>> import torch
        >>> epoch_steps(TensorBatches([torch.zeros(10, 2)], 4, False), None)
        3
    """
    if steps_per_epoch is not None:
        return checks.positive_int("steps_per_epoch", steps_per_epoch)
    source = batches.source if isinstance(batches, DeviceBatches) else batches
    if isinstance(batches, DeviceBatches) and iter(source) is source:
        raise ConfigError(
            "the training data is a one-pass iterator (e.g. a generator): it would be used up "
            "after one epoch. Fix: pass steps_per_epoch=..., or a Dataset/DataLoader."
        )
    return len(batches) if has_length(source) else None
