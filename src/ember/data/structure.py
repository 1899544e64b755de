"""Data for models with several inputs or outputs: lists and dicts of arrays, kept in shape.

Keras' ``fit([images, meta], {"class": y1, "box": y2})`` hands a model a *structure* of arrays.
ember slices each leaf alike (one index for all, so samples stay aligned), moves each to the
device, and gives the model the same structure per batch.

Example:
    >>> import numpy as np
    >>> x = [np.zeros((5, 3)), np.ones((5, 2))]
    >>> is_array_structure(x), num_samples(x)
    (True, 5)
    >>> [t.shape for t in map_structure(lambda a: a[:2], x)]
    [(2, 3), (2, 2)]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

_ARRAYS = (np.ndarray, torch.Tensor)


def is_array_structure(x: Any) -> bool:
    """A list of arrays/tensors, or a dict of them (several inputs or outputs).

    A tuple is not one: ember reads ``(x, y)`` and ``(x,)`` tuples as data with its labels.
    """
    if isinstance(x, dict):
        return bool(x) and all(isinstance(v, _ARRAYS) for v in x.values())
    if isinstance(x, list):
        return bool(x) and all(isinstance(v, _ARRAYS) for v in x)
    return False


def map_structure(function: Callable[[Any], Any], structure: Any) -> Any:
    """``structure`` with ``function`` applied to every array leaf (lists, tuples, dicts kept)."""
    if isinstance(structure, dict):
        return {key: map_structure(function, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        items = [map_structure(function, value) for value in structure]
        return items if isinstance(structure, list) else tuple(items)
    return function(structure)


def leaves(structure: Any) -> list[Any]:
    """The array leaves of ``structure``, in order."""
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in leaves(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in leaves(value)]
    return [structure]


def num_samples(structure: Any) -> int:
    """The number of samples: the length of the first leaf."""
    return len(structure) if isinstance(structure, _ARRAYS) else len(leaves(structure)[0])


def concatenate_batches(outputs: list[Any]) -> Any:
    """Per-batch outputs joined along the batch axis, floats as float32; for a model with
    several outputs (lists or dicts), one joined tensor per output, in the same structure.

    Example:
        >>> parts = [{"a": torch.zeros(2, 1)}, {"a": torch.ones(1, 1)}]
        >>> concatenate_batches(parts)["a"].shape
        torch.Size([3, 1])
    """
    if isinstance(outputs[0], torch.Tensor):
        return _joined(outputs)
    count = itertools.count()
    positions = map_structure(lambda _: next(count), outputs[0])
    return map_structure(lambda i: _joined([leaves(o)[i] for o in outputs]), positions)


def _joined(tensors: list[torch.Tensor]) -> torch.Tensor:
    joined = torch.cat(tensors)
    return joined.float() if joined.is_floating_point() else joined
