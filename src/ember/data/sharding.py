"""Each process's part of the data when several processes train together (``torch.distributed``).

``batch_size`` is the *global* batch, as in Keras' ``tf.distribute``: N processes each take
``batch_size / N`` rows of every batch, so N processes step on exactly the batches one process
would, and the result does not depend on N (docs/distributed.md). How each kind of data is split:

* **In memory** (:class:`ShardedBatches`): every process holds the whole data, shuffles it in the
  main process's order (shared once per epoch) and slices its rows of each global batch.
* **A DataLoader over a map-style Dataset** (:func:`shard_loader`): a ``DistributedSampler``
  gives each process its own samples, shuffled anew each epoch (``set_epoch``).
* **Anything else** (a generator, a PyDataset, a DataLoader with its own sampler)
  (:class:`SlicedBatches`): every process reads every batch and keeps its rows, so the batches
  must come out the same in every process (seed them).

Training steps run in lockstep (every step averages the gradients over the processes), so a global
batch with fewer rows than processes is left out of training (at most N - 1 samples an epoch),
and each step records in :class:`StepShare` the part of the global batch this process holds: a
short last batch split 3/2 counts each process's gradient for its rows, not half each.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler
from torch.utils.data.distributed import DistributedSampler

from ember.data.batches import Batch, DeviceBatches, TensorBatches
from ember.data.structure import leaves, map_structure, num_samples
from ember.errors import ConfigError


@dataclass
class StepShare:
    """The fraction of the current global batch that this process holds (``1/N`` for every
    batch but a short last one); the distributed step weighs its gradient by it."""

    fraction: float


@dataclass
class Shard:
    """Which process this is (``rank``), of how many, and how processes agree on an order.

    ``same_order`` hands every process the main process's shuffled order (a broadcast); the
    default keeps each process's own, which is the same when their generators agree.
    """

    rank: int
    world_size: int
    share: StepShare = field(default_factory=lambda: StepShare(1.0))
    same_order: Callable[[torch.Tensor], torch.Tensor] = lambda order: order


def row_range(total: int, rank: int, world_size: int) -> tuple[int, int]:
    """The rows ``[start, stop)`` of a batch of ``total`` rows that process ``rank`` takes:
    consecutive parts whose sizes differ by at most one (the first ``total % N`` are longer).

    Example:
        >>> [row_range(5, rank, 2) for rank in range(2)]
        [(0, 3), (3, 5)]
    """
    base, extra = divmod(total, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def local_batch_size(batch_size: int, world_size: int) -> int:
    """Each process's rows of a global batch of ``batch_size``; raises unless it divides evenly.

    Example:
        >>> local_batch_size(64, 4)
        16
    """
    if batch_size % world_size:
        below = batch_size - batch_size % world_size
        options = f"batch_size={below} or {below + world_size}" if below else f"{world_size}"
        raise ConfigError(
            f"batch_size={batch_size} is the global batch, split evenly over {world_size} "
            f"processes, and {batch_size} does not divide by {world_size}. Fix: use a multiple "
            f"of {world_size}, e.g. {options}."
        )
    return batch_size // world_size


class ShardedBatches(TensorBatches):
    """This process's rows of each global batch of in-memory data.

    Every process shuffles with the same generator (and is handed the main process's order),
    then takes :func:`row_range` of each global batch. In ``training`` the global batch must
    divide evenly and a last batch with fewer rows than processes is left out, so that every
    process steps together; for validation every row is kept (a process may hold one batch
    fewer).

    Example:
        >>> x = torch.arange(10.0)
        >>> batches = TensorBatches([x], batch_size=4)
        >>> [b[0].tolist() for b in ShardedBatches(batches, Shard(1, 2), training=True)]
        [[2.0, 3.0], [6.0, 7.0], [9.0]]
    """

    def __init__(self, batches: TensorBatches, shard: Shard, *, training: bool) -> None:
        super().__init__(batches.tensors, batches.batch_size, batches.shuffle, batches.generator)
        if training:
            local_batch_size(self.batch_size, shard.world_size)
        self.shard = shard
        self.training = training

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        smallest = self.shard.world_size if self.training else self.shard.rank + 1
        return full + (1 if rest >= smallest else 0)

    def __iter__(self) -> Iterator[Batch]:
        n, size, tensors = self.num_samples, self.batch_size, self.tensors
        rank, world_size = self.shard.rank, self.shard.world_size
        order = None
        if self.shuffle:
            # The same draw as TensorBatches, so N processes see the batches one process would.
            order = torch.randperm(n, generator=self.generator, device="cpu")
            order = self.shard.same_order(order.to(leaves(tensors[0])[0].device))
        with _equal_shares_after(self.shard):
            for start in range(0, n, size):
                total = min(size, n - start)
                if self.training and total < world_size:
                    return  # every process must step: a batch too small to split is left out
                first, last = row_range(total, rank, world_size)
                if first == last:
                    continue
                self.shard.share.fraction = (last - first) / total
                rows = slice(start + first, start + last)
                yield _take(tensors, rows if order is None else order[rows], self._structured)


class SlicedBatches(DeviceBatches):
    """This process's rows of every batch of any iterable: each process reads every batch.

    The batches must come out the same in every process (a seeded generator, a PyDataset
    without a random order, a DataLoader with a seeded sampler); only then is this the global
    batch split. Batches too small to split are left out of training.

    Example:
        >>> source = [(torch.arange(4.0), torch.arange(4))]
        >>> batches = DeviceBatches(source, torch.device("cpu"))
        >>> [b[1].tolist() for b in SlicedBatches(batches, Shard(0, 2), training=True)]
        [[0, 1]]
    """

    def __init__(self, batches: DeviceBatches, shard: Shard, *, training: bool) -> None:
        super().__init__(batches.source, batches.device)
        self.batches = batches  # iterated itself, so a PyDataset's epoch hooks still run
        self.shard = shard
        self.training = training

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[Batch]:
        rank, world_size = self.shard.rank, self.shard.world_size
        with _equal_shares_after(self.shard):
            for batch in self.batches:
                total = num_samples(batch[0])
                if self.training and total < world_size:
                    continue
                first, last = row_range(total, rank, world_size)
                if first == last:
                    continue
                self.shard.share.fraction = (last - first) / total
                yield _take(batch, slice(first, last), structured=True)


class SampledBatches(DeviceBatches):
    """The batches of a DataLoader whose sampler gives this process its own samples; each pass
    first tells a ``DistributedSampler`` the epoch (its shuffle seed) with ``set_epoch``."""

    def __init__(
        self, loader: DataLoader, device: torch.device, shard: Shard, epoch: Callable[[], int]
    ) -> None:
        super().__init__(loader, device)
        self.shard = shard
        self.epoch = epoch

    def __iter__(self) -> Iterator[Batch]:
        sampler = self.source.sampler
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(self.epoch())
        # Every process holds as many samples as the others (the sampler pads): equal shares.
        self.shard.share.fraction = 1 / self.shard.world_size
        return super().__iter__()


def shard_loader(
    batches: DeviceBatches, shard: Shard, *, training: bool, seed: int, epoch: Callable[[], int]
) -> DeviceBatches:
    """This process's part of ``batches``: a DataLoader over a map-style Dataset is rebuilt
    with ``batch_size / N`` and a sampler of its own (``DistributedSampler`` for training,
    every N-th sample from ``rank`` for validation, which repeats none); a DataLoader that has
    a ``DistributedSampler`` already is kept (its batches are per process then); anything else
    is sliced per batch (:class:`SlicedBatches`).

    Example:
        >>> from torch.utils.data import TensorDataset
        >>> loader = DataLoader(TensorDataset(torch.arange(8.0)), batch_size=4)
        >>> batches = DeviceBatches(loader, torch.device("cpu"))
        >>> mine = shard_loader(batches, Shard(1, 2), training=False, seed=0, epoch=lambda: 0)
        >>> [b[0].tolist() for b in mine]
        [[1.0, 3.0], [5.0, 7.0]]
    """
    loader = batches.source
    if isinstance(loader, DataLoader) and isinstance(loader.sampler, DistributedSampler):
        return SampledBatches(loader, batches.device, shard, epoch)
    if not _plain_loader(loader):
        return SlicedBatches(batches, shard, training=training)
    dataset, world_size = loader.dataset, shard.world_size
    if not training and len(dataset) < world_size:
        return batches  # too few samples for every process: each validates them all
    if training:
        per_process = local_batch_size(loader.batch_size, world_size)
        shuffle = isinstance(loader.sampler, RandomSampler)
        sampler: Any = DistributedSampler(
            dataset, num_replicas=world_size, rank=shard.rank, shuffle=shuffle, seed=seed
        )
    else:
        per_process = math.ceil(loader.batch_size / world_size)
        sampler = range(shard.rank, len(dataset), world_size)  # each sample once, none padded
    rebuilt = DataLoader(
        dataset,
        batch_size=per_process,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        generator=loader.generator,
        prefetch_factor=loader.prefetch_factor,
        persistent_workers=loader.persistent_workers,
    )
    return SampledBatches(rebuilt, batches.device, shard, epoch)


@contextlib.contextmanager
def _equal_shares_after(shard: Shard) -> Iterator[None]:
    """Back to equal shares (``1/N``) once a pass ends or is abandoned, so that a later step
    outside these batches (``train_on_batch``) weighs every process alike."""
    try:
        yield
    finally:
        shard.share.fraction = 1 / shard.world_size


def _plain_loader(loader: Any) -> bool:
    """A DataLoader over a map-style Dataset, batched by it with a sequential or random order:
    one that a sampler of each process's own can replace."""
    return (
        isinstance(loader, DataLoader)
        and not isinstance(loader.dataset, IterableDataset)
        and loader.batch_size is not None
        and type(loader.sampler) in (RandomSampler, SequentialSampler)
    )


def _take(batch: Batch, rows: slice | torch.Tensor, structured: bool) -> Batch:
    """Rows of each tensor of ``batch`` (a slice is a view; an index gathers)."""
    if isinstance(rows, slice):
        pick: Callable[[torch.Tensor], torch.Tensor] = lambda t: t[rows]  # noqa: E731
    else:
        pick = lambda t: t.index_select(0, rows)  # noqa: E731
    if structured:
        return tuple(map_structure(pick, part) for part in batch)
    return tuple(pick(t) for t in batch)
