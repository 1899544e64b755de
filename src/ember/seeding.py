"""Seeding Python, NumPy and PyTorch in one call, and saving and restoring all their states."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from ember import checks


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed ``random``, NumPy and PyTorch (all devices). On the CPU that makes runs repeatable.

    ``deterministic=True`` also asks PyTorch for deterministic kernels (slower on GPUs).

    Example:
        >>> import torch
        >>> set_seed(0); a = torch.rand(2)
        >>> set_seed(0); torch.equal(a, torch.rand(2))
        True
    """
    seed = checks.non_negative_int("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True)


def random_state() -> dict[str, Any]:
    """Every global random number generator's state: torch (CPU and CUDA), NumPy, Python.

    In a form a checkpoint can store (tensors, numbers, tuples); :func:`set_random_state`
    restores it, so that a resumed run draws the same numbers as an uninterrupted one.

    Example:
        >>> import torch
        >>> state = random_state(); a = torch.rand(2)
        >>> set_random_state(state); torch.equal(a, torch.rand(2))
        True
    """
    kind, keys, *rest = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), *rest),
        "python": random.getstate(),
    }


def set_random_state(state: dict[str, Any]) -> None:
    """Restore what :func:`random_state` returned (lists where tuples were are accepted)."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
