"""Keras' ``set_random_seed``: one seed for Python, NumPy and PyTorch."""

from __future__ import annotations

from ember.seeding import set_seed


def set_random_seed(seed: int) -> None:
    """Seed ``random``, NumPy and PyTorch at once (Keras' name for :func:`ember.set_seed`).

    Example:
        >>> import torch
        >>> set_random_seed(1); first = torch.rand(2)
        >>> set_random_seed(1); torch.equal(first, torch.rand(2))
        True
    """
    set_seed(seed)
