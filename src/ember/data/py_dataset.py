"""Keras' ``PyDataset`` (alias ``Sequence``): a dataset that hands out whole batches by index.

A subclass implements ``__len__`` (the number of batches) and ``__getitem__(index)`` (batch
``index``: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, numpy arrays or tensors), and
may override ``on_epoch_begin`` / ``on_epoch_end``. ``fit``, ``evaluate`` and ``predict`` take it
as ``x``: :func:`read_batches` reads one pass (``fit`` shuffles the order of the batches, as
Keras does) and ``ember.data.batches`` calls the hooks around each pass.

Example:
    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         x = np.arange(3.0) + 3 * index
    ...         return x, x**2
    >>> [y.tolist() for _, y in read_batches(Squares(), shuffle=False)]
    [[0.0, 1.0, 4.0], [9.0, 16.0, 25.0]]
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch

from ember import checks


class PyDataset:
    """Base class of a dataset of ready batches, as Keras 3's ``keras.utils.PyDataset``.

    ``workers > 1`` reads that many batches at once in threads (worth it when ``__getitem__``
    waits on files), keeping at most ``max_queue_size`` ahead; batches still arrive in order.
    ``use_multiprocessing`` is accepted for Keras code but reads in threads too (a forked copy
    of the dataset per process is not done here).

    Example:
        >>> import numpy as np
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, index):
        ...         window = slice(index * self.batch_size, (index + 1) * self.batch_size)
        ...         return self.x[window], self.y[window]
        >>> data = Batches(np.zeros((10, 3)), np.zeros(10), batch_size=4, workers=2)
        >>> len(data), data[2][0].shape, data.workers
        (3, (2, 3), 2)
    """

    # Class-level defaults: a subclass that forgets super().__init__() still works.
    workers: int = 1
    use_multiprocessing: bool = False
    max_queue_size: int = 10

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self.workers = checks.positive_int("workers", workers)
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = checks.positive_int("max_queue_size", max_queue_size)

    def __getitem__(self, index: int) -> Any:
        """Batch ``index`` (from 0): ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index) returning batch index."
        )

    @property
    def num_batches(self) -> int | None:
        """How many batches a pass holds: ``len(self)``, or None for an endless dataset."""
        return len(self) if hasattr(self, "__len__") else None

    def on_epoch_begin(self) -> None:
        """Called before each pass over the data (override to prepare it)."""

    def on_epoch_end(self) -> None:
        """Called after each full pass over the data (override, e.g. to reshuffle samples)."""


# Keras 2's name, still exported by Keras 3.
Sequence = PyDataset


def read_batches(
    dataset: PyDataset, shuffle: bool, generator: torch.Generator | None = None
) -> Iterator[Any]:
    """One pass over ``dataset``: its batches in order (a random order when ``shuffle``); an
    endless dataset (``num_batches`` None) is read until the caller stops. The epoch hooks are
    the caller's to call."""
    count = dataset.num_batches
    if count is None:
        indices: Any = itertools.count()
    elif shuffle:
        indices = torch.randperm(count, generator=generator).tolist()
    else:
        indices = range(count)
    if dataset.workers > 1:
        yield from _prefetched(dataset, indices)
    else:
        for index in indices:
            yield dataset[index]


def _prefetched(dataset: PyDataset, indices: Any) -> Iterator[Any]:
    """``dataset[index]`` for each index, read by ``workers`` threads up to ``max_queue_size``
    batches ahead, in order."""
    ahead = max(dataset.max_queue_size, dataset.workers)
    indices = iter(indices)
    with ThreadPoolExecutor(dataset.workers) as pool:
        pending = collections.deque(
            pool.submit(dataset.__getitem__, index) for index in itertools.islice(indices, ahead)
        )
        try:
            while pending:
                batch = pending.popleft().result()
                for index in itertools.islice(indices, 1):
                    pending.append(pool.submit(dataset.__getitem__, index))
                yield batch
        finally:  # a pass abandoned early leaves no reads queued behind it
            for future in pending:
                future.cancel()
