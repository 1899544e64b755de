"""Lazy layers get their weights from a sample: finding them, and building them with two samples.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.LazyLinear(3))
    >>> has_unbuilt_layers(net)
    True
    >>> build_module(net, torch.randn(5, 4)); has_unbuilt_layers(net)
    False
"""

from __future__ import annotations

import torch
from torch import nn

from ember.data.structure import map_structure
from ember.layers.base import Layer, reset_states


def has_unbuilt_layers(module: nn.Module) -> bool:
    """Whether ``module`` holds a lazy layer or parameter that has not seen data yet."""
    return any(
        (isinstance(m, Layer) and not m.built)
        or any(isinstance(p, nn.parameter.UninitializedParameter) for p in m.parameters(False))
        for m in module.modules()
    )


@torch.no_grad()
def build_module(module: nn.Module, example: torch.Tensor) -> None:
    """Create the parameters of lazy layers by running two samples through in eval mode."""
    was_training = module.training
    module.eval()
    try:
        module(map_structure(lambda t: t[:2], example))  # a list/dict for several inputs
    finally:
        module.train(was_training)
        reset_states(module)
