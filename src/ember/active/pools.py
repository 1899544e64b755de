"""The labelled and unlabelled pools of active learning, and the schedule of label counts.

A pool is a set of ``size`` items (images) known by position; the labelled pool holds the
positions whose labels have been read, in the order they were asked for, the unlabelled pool
the rest. A round moves ``k`` positions from one to the other. The checks here run before any
work: a budget larger than the pool, an initial pool larger than the pool, ``k <= 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError, DataError


def check_schedule(schedule: Sequence[int], pool_size: int) -> tuple[int, ...]:
    """``schedule`` (the labelled pool's size after each round, the first one the initial
    labels) as a tuple, if it rises at every round and fits in a pool of ``pool_size``.

    Example:
        >>> check_schedule([100, 200, 400], pool_size=1000)
        (100, 200, 400)
        >>> check_schedule([100, 200, 5000], pool_size=1000)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: the label budget (5000 labels) is larger than the pool of 1000 images. Fix: end the schedule at 1000 labels or fewer, e.g. --set labels=100,200,1000.
    """
    schedule = checks.positive_ints("labels", schedule, allow_empty=False, fix="e.g. 100,200,400")
    pool_size = checks.positive_int("pool_size", pool_size)
    if schedule[0] > pool_size:
        raise ConfigError(
            f"the initial labelled pool ({schedule[0]} labels) is larger than the pool of "
            f"{pool_size} images. Fix: start the schedule at fewer than {pool_size} labels."
        )
    for before, after in zip(schedule[:-1], schedule[1:]):
        if after <= before:
            raise ConfigError(
                f"each round must acquire k > 0 new labels, but the schedule goes from {before} "
                f"to {after} labels (k={after - before}). Fix: list label counts in rising "
                f"order, e.g. --set labels=100,200,400."
            )
    if schedule[-1] > pool_size:
        fitted = ",".join(str(n) for n in (*[n for n in schedule if n < pool_size], pool_size))
        raise ConfigError(
            f"the label budget ({schedule[-1]} labels) is larger than the pool of {pool_size} "
            f"images. Fix: end the schedule at {pool_size} labels or fewer, e.g. "
            f"--set labels={fitted}."
        )
    return schedule


def check_scored_enough(schedule: Sequence[int], score_subset: int | None) -> None:
    """A round must score at least the ``k`` images it labels (``score_subset`` None: all).

    Example:
        >>> check_scored_enough([100, 200, 500], score_subset=200)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: a round acquires up to k=300 labels but only score_subset=200 images are scored. Fix: --set score_subset=300 (or more), or take smaller steps in labels.
    """
    steps = [after - before for before, after in zip(schedule[:-1], schedule[1:])]
    if score_subset is not None and steps and max(steps) > score_subset:
        raise ConfigError(
            f"a round acquires up to k={max(steps)} labels but only score_subset="
            f"{score_subset} images are scored. Fix: --set score_subset={max(steps)} (or "
            f"more), or take smaller steps in labels."
        )


@dataclass
class LabelPools:
    """Positions ``labelled`` (in the order they were labelled) and ``unlabelled`` (ascending).

    Example:
        >>> pools = LabelPools.initial(10, 3, generator=torch.Generator().manual_seed(0))
        >>> len(pools.labelled), len(pools.unlabelled)
        (3, 7)
        >>> moved = pools.acquire(torch.tensor([0, 2]))  # positions in the unlabelled pool
        >>> moved.tolist() == pools.labelled[3:].tolist(), len(pools.unlabelled)
        (True, 5)
    """

    labelled: torch.Tensor  # (L,) int64 positions in the pool
    unlabelled: torch.Tensor  # (U,) int64 positions in the pool, ascending

    @classmethod
    def initial(cls, size: int, count: int, *, generator: torch.Generator) -> LabelPools:
        """``count`` positions of a pool of ``size`` drawn uniformly at random to start with."""
        size = checks.positive_int("pool_size", size)
        count = checks.positive_int("initial_labels", count)
        if count > size:
            raise ConfigError(
                f"expected at most {size} initial labels (the pool's size), received "
                f"initial_labels={count}. Fix: start with fewer labels, or a larger pool."
            )
        order = torch.randperm(size, generator=generator)
        return cls(order[:count].clone(), order[count:].sort().values)

    @property
    def size(self) -> int:
        """Items in both pools together."""
        return len(self.labelled) + len(self.unlabelled)

    def acquire(self, positions: torch.Tensor) -> torch.Tensor:
        """Move the unlabelled items at ``positions`` (indices into ``unlabelled``, as ranked,
        best first) to the labelled pool; return their pool positions."""
        positions = torch.as_tensor(positions, dtype=torch.int64)
        k = len(positions)
        if k < 1:
            raise ConfigError(
                "expected k > 0 images to label this round, received none. Fix: acquire at "
                "least one image per round."
            )
        if k > len(self.unlabelled):
            raise ConfigError(
                f"the label budget is larger than the pool: asked for k={k} more labels but "
                f"only {len(self.unlabelled)} images are unlabelled. Fix: lower the budget."
            )
        last = len(self.unlabelled) - 1
        if positions.min() < 0 or positions.max() > last:
            raise DataError(
                f"expected positions in 0..{last} (the unlabelled pool's), received "
                f"{positions.tolist()}"
            )
        if positions.unique().numel() != k:
            raise DataError(f"expected {k} distinct positions, received {positions.tolist()}")
        chosen = self.unlabelled[positions]
        keep = torch.ones(len(self.unlabelled), dtype=torch.bool)
        keep[positions] = False
        self.labelled = torch.cat([self.labelled, chosen])
        self.unlabelled = self.unlabelled[keep]
        return chosen

    def state_dict(self) -> dict[str, Any]:
        """Both pools, for a checkpoint."""
        return {"labelled": self.labelled.clone(), "unlabelled": self.unlabelled.clone()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LabelPools:
        """The pools :meth:`state_dict` saved."""
        return cls(state["labelled"].long().clone(), state["unlabelled"].long().clone())
