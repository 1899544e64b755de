"""Restoring an optimizer's state from a checkpoint so that the next step is the uninterrupted one.

Checkpoints store tensors contiguous, and ``Optimizer.load_state_dict`` keeps the layout it is
given. A fused optimizer walks a parameter and its moments in memory order, so restoring a
contiguous moment for a channels-last weight (a CNN's, on the fast path) would pair the wrong
elements: every later update would be wrong, not merely rounded differently.

Example:
    >>> import torch
    >>> conv = torch.nn.Conv2d(2, 3, 3).to(memory_format=torch.channels_last)
    >>> adam = torch.optim.Adam(conv.parameters())
    >>> conv(torch.randn(1, 2, 5, 5)).sum().backward(); adam.step()
    >>> state = adam.state_dict()
    >>> state["state"][0]["exp_avg"] = state["state"][0]["exp_avg"].contiguous()
    >>> load_optimizer_state(adam, state)
    >>> adam.state[conv.weight]["exp_avg"].stride() == conv.weight.stride()
    True
"""

from __future__ import annotations

from typing import Any

import torch


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """``optimizer.load_state_dict(state)``, then give each state tensor its parameter's layout."""
    optimizer.load_state_dict(state)
    match_layouts(optimizer)


def match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Copy every per-parameter state tensor into its parameter's memory layout (strides)."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if (
                isinstance(value, torch.Tensor)
                and value.shape == param.shape
                and value.stride() != param.stride()
            ):
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)
