"""Seeding Python, NumPy and PyTorch in one call, for repeatable runs."""

from __future__ import annotations

import random

import numpy as np
import torch

from ember.errors import ConfigError


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed ``random``, NumPy and PyTorch (all devices). On the CPU that makes runs repeatable.

    ``deterministic=True`` also asks PyTorch for deterministic kernels (slower on GPUs).

    Example:
        >>> import torch
        >>> set_seed(0); a = torch.rand(2)
        >>> set_seed(0); torch.equal(a, torch.rand(2))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"expected a non-negative integer, received seed={seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)
