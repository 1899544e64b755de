"""A sum tree: find where a running total passes a target, for a whole batch of targets at once.

The leaves hold non-negative values; each inner node holds the sum of its two children, so the
root holds the total. Searching descends one level at a time for every target together (about
17 numpy operations for 100,000 leaves), and an update recomputes only the ancestors of the
changed leaves. Prioritized replay uses it to sample leaf ``i`` with probability
``value[i] / total``.

Example:
    >>> import numpy as np
    >>> tree = SumTree(4)
    >>> tree.update(np.array([0, 1, 2, 3]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> tree.total
    10.0
    >>> tree.find(np.array([0.0, 0.99, 1.0, 2.5, 9.9]))
    array([0, 0, 1, 1, 3])
"""

from __future__ import annotations

import numpy as np

from ember import checks
from ember.errors import DataError


class SumTree:
    """``capacity`` leaves (all 0 at first) under a binary tree of partial sums, in float64.

    The nodes live in one array: the root at 1, node ``j``'s children at ``2j`` and ``2j + 1``,
    and the leaves at ``[width, 2 * width)`` where ``width`` is ``capacity`` rounded up to a power
    of two (the extra leaves stay 0, so they are never found).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = checks.positive_int("capacity", capacity)
        self._width = 1 << (self.capacity - 1).bit_length()
        self._depth = self._width.bit_length() - 1
        self._nodes = np.zeros(2 * self._width, dtype=np.float64)

    @property
    def total(self) -> float:
        """The sum of all leaves."""
        return float(self._nodes[1])

    def values(self, indices: np.ndarray) -> np.ndarray:
        """The leaves at ``indices``.

        Example:
            >>> tree = SumTree(3); tree.update(np.array([2]), np.array([5.0]))
            >>> tree.values(np.array([0, 2]))
            array([0., 5.])
        """
        return self._nodes[self._width + np.asarray(indices, dtype=np.int64)]

    def update(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set the leaves at ``indices`` to ``values``; where an index repeats, the last one wins.

        Example:
            >>> tree = SumTree(2); tree.update(np.array([1, 1]), np.array([3.0, 7.0]))
            >>> tree.total
            7.0
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= self.capacity):
            raise DataError(
                f"expected leaf indices in [0, {self.capacity}), received indices from "
                f"{indices.min()} to {indices.max()}. Fix: index only the tree's leaves."
            )
        if values.size and not (np.isfinite(values).all() and values.min() >= 0):
            raise DataError(
                f"expected finite non-negative values, received {values}. "
                f"Fix: pass priorities >= 0 (and check the loss for NaN or inf)."
            )
        # numpy does not promise which of several writes to one index lands, so keep the last
        # occurrence explicitly: np.unique on the reversed array returns first occurrences.
        reversed_indices = indices[::-1]
        nodes, first = np.unique(reversed_indices, return_index=True)
        nodes = nodes + self._width
        self._nodes[nodes] = values[::-1][first]
        # Recompute (not adjust) the sums, so rounding never drifts. Parents shared by several
        # leaves appear more than once but get the same value each time: no np.unique needed.
        for _ in range(self._depth):
            nodes //= 2
            self._nodes[nodes] = self._nodes[2 * nodes] + self._nodes[2 * nodes + 1]

    def find(self, targets: np.ndarray) -> np.ndarray:
        """For each target in ``[0, total)``, the leaf ``i`` whose cumulative range holds it.

        Leaf ``i`` covers ``[sum(values[:i]), sum(values[:i + 1]))``, so a uniform target in
        ``[0, total)`` finds leaf ``i`` with probability ``values[i] / total``. Rounding can carry a
        target at the very top past the last non-zero leaf; callers clamp to their valid range.
        """
        remaining = np.asarray(targets, dtype=np.float64).copy()
        nodes = np.ones(remaining.shape, dtype=np.int64)
        for _ in range(self._depth):
            left = 2 * nodes
            left_sums = self._nodes[left]
            go_right = remaining >= left_sums
            remaining -= np.where(go_right, left_sums, 0.0)
            nodes = left + go_right
        return nodes - self._width
