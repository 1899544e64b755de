"""Where a module's weights live."""

from __future__ import annotations

import torch
from torch import nn


def device_of(module: nn.Module) -> torch.device:
    """The device of ``module``'s first built parameter (the CPU for a module without any).

    Example:
        >>> device_of(nn.Linear(2, 1))
        device(type='cpu')
    """
    for tensor in module.parameters():
        if not isinstance(tensor, nn.parameter.UninitializedParameter):
            return tensor.device
    return torch.device("cpu")
