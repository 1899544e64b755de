"""Feature extraction: a frozen backbone's outputs over a data set, computed once.

Training a small classifier on cached features is the cheapest transfer learning: the backbone
runs once per image instead of once per image per epoch (Keras' "feature extraction" recipe).

Example:
    >>> import torch
    >>> backbone = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1))
    >>> extract_features(backbone, torch.randn(10, 3, 8, 8), batch_size=4, device="cpu").shape
    torch.Size([10, 4])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember import checks
from ember.data.batches import as_batches
from ember.errors import DataError
from ember.train.precision import resolve_device


def extract_features(
    backbone: nn.Module, data: Any, *, batch_size: int = 256, device: str | torch.device = "auto"
) -> torch.Tensor:
    """``backbone``'s outputs over ``data``, stacked on the CPU, each flattened from dim 1.

    ``backbone`` runs in eval mode (restored afterwards) under ``torch.inference_mode``, on
    ``device`` (``"auto"``: CUDA, then MPS, then the CPU; the module is moved there). ``data``
    is a tensor or numpy array of inputs, an ``(x, y)`` tuple, a ``Dataset``/``DataLoader``:
    anything :func:`ember.data.as_batches` takes; only the inputs are used. Batches move to the
    device one at a time. What the backbone returns is kept as it is apart from the flattening:
    a ResNet without its head (:func:`ember.transfer.without_head`) gives ``(N, 512)``.

    Example:
        >>> import numpy as np
        >>> extract_features(nn.Flatten(), np.ones((3, 2, 2), "float32"), device="cpu")
        tensor([[1., 1., 1., 1.],
                [1., 1., 1., 1.],
                [1., 1., 1., 1.]])
    """
    checks.positive_int("batch_size", batch_size)
    device = resolve_device(device)
    batches = as_batches(data, batch_size=batch_size, shuffle=False, device="cpu")
    was_training = backbone.training
    backbone.to(device).eval()
    outputs = []
    try:
        with torch.inference_mode():
            for batch in batches:
                features = backbone(batch[0].to(device, non_blocking=True))
                outputs.append(features.reshape(len(features), -1).cpu())
    finally:
        backbone.train(was_training)
    if not outputs:
        raise DataError("extract_features received no batches. Fix: pass some data.")
    return torch.cat(outputs)
