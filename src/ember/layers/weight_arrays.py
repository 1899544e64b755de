"""Keras' ``get_weights``/``set_weights``: a model's tensors as a list of numpy arrays.

Example:
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> arrays = get_weights(net)
    >>> [a.shape for a in arrays]
    [(2, 3), (2,)]
    >>> set_weights(net, [a * 0 for a in arrays])
    >>> float(net.weight.detach().abs().sum())
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ember.errors import WeightsMismatchError


def _entries(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    # Parameters and float buffers (batch-norm statistics), as Keras lists weights; integer
    # bookkeeping buffers (num_batches_tracked) are not weights.
    return [(k, v) for k, v in module.state_dict().items() if v.is_floating_point()]


def get_weights(module: nn.Module) -> list[np.ndarray]:
    """Copies of every weight of ``module``, in ``state_dict`` order."""
    return [v.detach().cpu().numpy().copy() for _, v in _entries(module)]


def set_weights(module: nn.Module, arrays: Sequence[np.ndarray]) -> None:
    """Load arrays from :func:`get_weights` (same order); all shapes are checked before any copy."""
    entries = _entries(module)
    if len(arrays) != len(entries):
        raise WeightsMismatchError(
            f"set_weights received {len(arrays)} arrays, the model has {len(entries)} weights "
            f"({', '.join(k for k, _ in entries[:8])}{' ...' if len(entries) > 8 else ''}). "
            f"Fix: pass the list from get_weights() of the same architecture."
        )
    wrong = [
        f"{name}: model {tuple(t.shape)} vs given {tuple(np.shape(a))}"
        for (name, t), a in zip(entries, arrays)
        if tuple(t.shape) != tuple(np.shape(a))
    ]
    if wrong:
        raise WeightsMismatchError(
            "set_weights received arrays of the wrong shape: "
            + "; ".join(wrong[:8])
            + ". Fix: pass the list from get_weights() of the same architecture."
        )
    with torch.no_grad():
        for (_, tensor), array in zip(entries, arrays):
            tensor.copy_(torch.as_tensor(np.asarray(array), dtype=tensor.dtype))
