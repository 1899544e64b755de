"""Train / validation / test splits of in-memory data (numpy arrays, tensors, lists).

Splits return the types they are given (a tensor stays a tensor on its device). Stratified
splits keep every class's share in each part within one sample of the overall share.

Example:
    >>> import numpy as np
    >>> x, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=0)
    >>> len(x_train), len(x_test)
    (8, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError


def _length(array: Any, name: str) -> int:
    if not isinstance(array, (np.ndarray, torch.Tensor, list, tuple)):
        raise DataError(
            f"{name} must be a numpy array, a torch tensor or a list, received "
            f"{type(array).__name__}"
        )
    if isinstance(array, (np.ndarray, torch.Tensor)) and array.ndim == 0:
        raise DataError(f"{name} is a scalar, not a set of samples. Fix: pass an array.")
    return len(array)


def _check_lengths(arrays: Sequence[Any], names: Sequence[str]) -> int:
    lengths = [_length(a, n) for a, n in zip(arrays, names, strict=True)]
    if lengths[0] == 0:
        raise DataError(f"{names[0]} is empty. Fix: pass some data.")
    for length, name in zip(lengths[1:], names[1:], strict=True):
        if length != lengths[0]:
            raise DataError(
                f"{names[0]} and {name} have different lengths: {lengths[0]} vs {length}. "
                f"Fix: give one {name} entry per sample of {names[0]}."
            )
    return lengths[0]


def _take(array: Any, indices: np.ndarray) -> Any:
    """``array[indices]`` keeping the type: numpy, tensor (on its device) or list."""
    if isinstance(array, torch.Tensor):
        return array[torch.as_tensor(indices, dtype=torch.long, device=array.device)]
    if isinstance(array, np.ndarray):
        return array[indices]
    return type(array)(array[i] for i in indices)


def _labels(labels: Any) -> np.ndarray:
    """Class labels as a 1-D numpy array; one-hot rows become their argmax."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    return labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels


def _allocate(class_sizes: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``total`` among classes in proportion to their sizes (largest remainders, ties at
    random): each class gets its exact share rounded down or up."""
    shares = class_sizes * total / class_sizes.sum()
    counts = np.floor(shares).astype(int)
    remainders = shares - counts
    order = np.lexsort((rng.random(len(shares)), -remainders))  # largest remainder first
    counts[order[: total - counts.sum()]] += 1
    return counts


def _split_indices(
    n: int, counts: Sequence[int], labels: np.ndarray | None, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Indices of consecutive parts of sizes ``counts`` (the last part takes the rest).

    ``rng=None``: no shuffling, parts in order. With ``labels``: stratified, parts drawn class by
    class with :func:`_allocate`.
    """
    if rng is None:
        bounds = np.cumsum([0, *counts, n - sum(counts)])
        return [np.arange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    if labels is None:
        order = rng.permutation(n)
        bounds = np.cumsum([0, *counts, n - sum(counts)])
        return [order[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    classes, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    if sizes.min() < 2:
        rare = classes[sizes < 2]
        raise DataError(
            f"stratify needs at least 2 samples of each class, but class(es) "
            f"{rare[:10].tolist()} have only 1. Fix: gather more samples of them, merge rare "
            f"classes, or split with stratify=False."
        )
    members = [rng.permutation(np.flatnonzero(inverse == c)) for c in range(len(classes))]
    remaining = sizes.copy()
    parts = []
    for count in counts:
        per_class = _allocate(remaining, count, rng)
        taken = [m[:k] for m, k in zip(members, per_class, strict=True)]
        members = [m[k:] for m, k in zip(members, per_class, strict=True)]
        remaining = remaining - per_class
        parts.append(rng.permutation(np.concatenate(taken)))
    parts.append(rng.permutation(np.concatenate(members)))
    return parts


def _part_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Held-out part sizes (rounded up, as scikit-learn does); the training part keeps >= 1."""
    counts = [math.ceil(f * n) for f in fractions]
    if n - sum(counts) < 1 or min(counts) < 1:
        raise DataError(
            f"{n} samples are too few to split into a training part and held-out parts of "
            f"fractions {list(fractions)}. Fix: pass more data or other sizes."
        )
    return counts


def _stratify_labels(stratify: Any, y: Any, n: int) -> np.ndarray | None:
    if stratify is False or stratify is None:
        return None
    if stratify is True:
        if y is None:
            raise ConfigError(
                "stratify=True needs labels y. Fix: pass y, or stratify=<labels array>."
            )
        return _labels(y)
    labels = _labels(stratify)
    if len(labels) != n:
        raise DataError(f"stratify has {len(labels)} labels for {n} samples. Fix: one per sample.")
    return labels


def _rng(shuffle: bool, stratified: bool, seed: Any) -> np.random.Generator | None:
    if shuffle:
        return np.random.default_rng(seed)
    if stratified:
        raise ConfigError(
            "stratify needs shuffle=True (a stratified split picks samples from every class). "
            "Fix: pass shuffle=True, or stratify=False."
        )
    return None


def train_test_split(
    x: Any,
    y: Any = None,
    *,
    test_size: float = 0.2,
    stratify: Any = False,
    seed: int | None = None,
    shuffle: bool = True,
) -> tuple[Any, ...]:
    """Split ``x`` (and ``y``) into train and test parts: ``(x_train, x_test[, y_train, y_test])``.

    The test part has ``ceil(test_size * n)`` samples. ``stratify=True`` keeps the class shares of
    ``y`` (labels or one-hot rows) in both parts; ``stratify=<labels>`` stratifies by other labels.
    ``shuffle=False`` puts the last samples in the test part. One ``seed`` gives one split.

    Example:
        >>> import torch
        >>> x, y = torch.randn(100, 3), torch.arange(100) % 4
        >>> x_train, x_test, y_train, y_test = train_test_split(x, y, stratify=True, seed=0)
        >>> torch.bincount(y_test).tolist()
        [5, 5, 5, 5]
    """
    test_size = checks.number_in("test_size", test_size, 0, 1, closed="()")
    arrays = [x] if y is None else [x, y]
    n = _check_lengths(arrays, ["x", "y"][: len(arrays)])
    labels = _stratify_labels(stratify, y, n)
    rng = _rng(shuffle, labels is not None, seed)
    (n_test,) = _part_sizes(n, [test_size])
    # Parts are drawn in order (test first) so the test part comes from the end when not shuffled.
    if rng is None:
        test, train = np.arange(n - n_test, n), np.arange(n - n_test)
    else:
        test, train = _split_indices(n, [n_test], labels, rng)
    return tuple(part for array in arrays for part in (_take(array, train), _take(array, test)))


def train_val_test_split(
    x: Any,
    y: Any = None,
    *,
    val_size: float = 0.1,
    test_size: float = 0.1,
    stratify: Any = False,
    seed: int | None = None,
    shuffle: bool = True,
) -> tuple[Any, ...]:
    """Split into train, validation and test parts: ``(x_train, x_val, x_test[, y_train, y_val,
    y_test])``, each held-out part ``ceil(size * n)`` samples.

    ``shuffle=False`` keeps the order: train, then validation, then test.

    Example:
        >>> import numpy as np
        >>> parts = train_val_test_split(np.arange(100), np.arange(100) % 2, seed=0)
        >>> [len(p) for p in parts]
        [80, 10, 10, 80, 10, 10]
    """
    val_size = checks.number_in("val_size", val_size, 0, 1, closed="()")
    test_size = checks.number_in("test_size", test_size, 0, 1, closed="()")
    if val_size + test_size >= 1:
        raise ConfigError(
            f"val_size + test_size must be below 1 to leave training data, received "
            f"val_size={val_size}, test_size={test_size}"
        )
    arrays = [x] if y is None else [x, y]
    n = _check_lengths(arrays, ["x", "y"][: len(arrays)])
    labels = _stratify_labels(stratify, y, n)
    rng = _rng(shuffle, labels is not None, seed)
    n_val, n_test = _part_sizes(n, [val_size, test_size])
    if rng is None:
        n_train = n - n_val - n_test
        train = np.arange(n_train)
        val, test = np.arange(n_train, n_train + n_val), np.arange(n_train + n_val, n)
    else:
        test, val, train = _split_indices(n, [n_test, n_val], labels, rng)
    return tuple(part for array in arrays for part in (_take(array, i) for i in (train, val, test)))


def validation_split(arrays: Any, fraction: float) -> tuple[Any, Any]:
    """Keras' ``validation_split``: the LAST ``fraction`` of the samples, before any shuffling.

    ``arrays`` is one array or a tuple/list of them (``None`` entries pass through); returns
    ``(train, val)`` of the same structure. The split point is ``floor(n * (1 - fraction))``.

    Example:
        >>> import numpy as np
        >>> x, y = np.arange(10), np.arange(10) % 2
        >>> (x_train, y_train), (x_val, y_val) = validation_split((x, y), 0.2)
        >>> x_val.tolist()
        [8, 9]
    """
    fraction = checks.number_in("validation_split", fraction, 0, 1, closed="()")
    single = not isinstance(arrays, (tuple, list)) or (
        isinstance(arrays, list)
        and not any(isinstance(a, (np.ndarray, torch.Tensor)) for a in arrays)
    )
    items = [arrays] if single else list(arrays)
    present = [(i, a) for i, a in enumerate(items) if a is not None]
    if not present:
        raise DataError("validation_split received no arrays. Fix: pass (x, y).")
    n = _check_lengths([a for _, a in present], [f"arrays[{i}]" for i, _ in present])
    split_at = math.floor(n * (1 - fraction))
    if split_at in (0, n):
        raise DataError(
            f"{n} samples cannot be split into training and validation parts with "
            f"validation_split={fraction}. Fix: pass more data or another fraction."
        )
    train = [None if a is None else a[:split_at] for a in items]
    val = [None if a is None else a[split_at:] for a in items]
    if single:
        return train[0], val[0]
    if isinstance(arrays, tuple):
        return tuple(train), tuple(val)
    return train, val
