"""Each process's part of the data (ember.data.sharding), checked rank by rank in one process:
the parts of every global batch are disjoint and together are the batch one process takes."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from ember.data.batches import DeviceBatches, TensorBatches
from ember.data.sharding import (
    SampledBatches,
    Shard,
    ShardedBatches,
    SlicedBatches,
    StepShare,
    local_batch_size,
    shard_loader,
)
from ember.errors import ConfigError

CPU = torch.device("cpu")


def in_memory(samples: int, batch_size: int, seed: int = 0) -> TensorBatches:
    x = torch.arange(samples, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    return TensorBatches([x, x.long()], batch_size, shuffle=True, generator=generator)


def parts(world_size: int, make, training: bool = True) -> list[list[list[int]]]:
    """Each rank's batches (as lists of sample numbers), each rank from a fresh generator."""
    return [
        [b[1].tolist() for b in ShardedBatches(make(), Shard(rank, world_size), training=training)]
        for rank in range(world_size)
    ]


@pytest.mark.parametrize(("samples", "world_size"), [(40, 2), (37, 2), (38, 4)])
def test_the_parts_of_each_global_batch_are_the_batch_one_process_takes(samples, world_size):
    whole = [b[1].tolist() for b in in_memory(samples, 8)]
    ranks = parts(world_size, lambda: in_memory(samples, 8))
    for step, batch in enumerate(whole):
        if len(batch) < world_size:  # too small to split: left out of training
            assert all(len(rank) == step for rank in ranks)
            continue
        together = [sample for rank in ranks for sample in rank[step]]
        assert together == batch  # same samples, same order: rank 0's rows come first


def test_a_last_batch_too_small_to_split_is_left_out_of_training_but_not_of_validation():
    training = parts(4, lambda: in_memory(18, 8), training=True)  # last batch: 2 rows < 4
    assert [len(rank) for rank in training] == [2, 2, 2, 2]
    validation = parts(4, lambda: in_memory(18, 8), training=False)
    assert [len(rank) for rank in validation] == [3, 3, 2, 2]
    assert sorted(s for rank in validation for batch in rank for s in batch) == list(range(18))
    for rank in range(4):
        for mode in (True, False):
            batches = ShardedBatches(in_memory(18, 8), Shard(rank, 4), training=mode)
            assert len(batches) == len(list(batches))


def test_a_short_last_batch_records_each_process_share():
    shares = []
    for rank in range(2):
        share = StepShare(0.5)
        batches = ShardedBatches(in_memory(37, 8), Shard(rank, 2, share), training=True)
        *_, last = [(len(b[0]), share.fraction) for b in batches]
        shares.append(last)
        assert share.fraction == 1 / 2  # equal shares again after the pass
    assert shares == [(3, 3 / 5), (2, 2 / 5)]


def test_every_process_takes_the_order_it_is_handed():
    reverse = Shard(0, 2, same_order=lambda order: order.flip(0))
    batches = ShardedBatches(in_memory(8, 4), reverse, training=True)
    order = torch.randperm(8, generator=torch.Generator().manual_seed(0)).flip(0)
    assert [b[1].tolist() for b in batches] == [order[:2].tolist(), order[4:6].tolist()]


def test_a_global_batch_that_does_not_divide_says_both_numbers_and_the_fix():
    with pytest.raises(ConfigError, match=r"batch_size=33 .* 2 processes.*batch_size=32 or 34"):
        ShardedBatches(in_memory(64, 33), Shard(0, 2), training=True)
    with pytest.raises(ConfigError, match=r"batch_size=3 .* 4 processes.*multiple of 4"):
        local_batch_size(3, 4)
    assert len(list(ShardedBatches(in_memory(9, 3), Shard(0, 2), training=False))) == 3


def test_several_inputs_are_split_leaf_by_leaf():
    x = {"a": torch.arange(8.0), "b": torch.arange(8.0) * 10}
    batches = TensorBatches([x, torch.arange(8)], 4, shuffle=False)
    first = next(iter(ShardedBatches(batches, Shard(1, 2), training=True)))
    assert first[0]["a"].tolist() == [2.0, 3.0] and first[0]["b"].tolist() == [20.0, 30.0]


# -- DataLoaders and other iterables ------------------------------------------------------------
def loader(samples: int, batch_size: int, shuffle: bool) -> DeviceBatches:
    dataset = TensorDataset(torch.arange(samples))
    return DeviceBatches(DataLoader(dataset, batch_size=batch_size, shuffle=shuffle), CPU)


def loader_parts(world_size: int, training: bool, epoch: int) -> list[list[list[int]]]:
    ranks = []
    for rank in range(world_size):
        mine = shard_loader(
            loader(20, 8, shuffle=training),
            Shard(rank, world_size),
            training=training,
            seed=3,
            epoch=lambda: epoch,
        )
        ranks.append([b[0].tolist() for b in mine])
    return ranks


def test_a_shuffled_loader_gets_a_distributed_sampler_and_a_per_process_batch():
    mine = shard_loader(loader(20, 8, True), Shard(0, 2), training=True, seed=3, epoch=lambda: 0)
    assert isinstance(mine, SampledBatches)
    assert isinstance(mine.source.sampler, DistributedSampler)
    assert mine.source.batch_size == 4
    epoch_0, again, epoch_1 = (loader_parts(2, True, e) for e in (0, 0, 1))
    samples = [s for rank in epoch_0 for batch in rank for s in batch]
    assert sorted(samples) == list(range(20))  # each sample once (20 divides by 2: no padding)
    assert epoch_0 == again and epoch_0 != epoch_1  # set_epoch: a new order each epoch
    assert [len(rank) for rank in epoch_0] == [3, 3]  # every process steps together


def test_a_validation_loader_is_split_without_repeating_a_sample():
    ranks = loader_parts(3, training=False, epoch=0)
    samples = [s for rank in ranks for batch in rank for s in batch]
    assert sorted(samples) == list(range(20)) and len(samples) == 20


def test_a_validation_loader_smaller_than_the_processes_is_validated_whole_by_each():
    source = loader(1, 8, shuffle=False)
    assert shard_loader(source, Shard(1, 2), training=False, seed=0, epoch=lambda: 0) is source


def test_a_loader_with_its_own_distributed_sampler_is_kept():
    dataset = TensorDataset(torch.arange(10))
    sampler = DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False)
    source = DeviceBatches(DataLoader(dataset, batch_size=2, sampler=sampler), CPU)
    mine = shard_loader(source, Shard(1, 2), training=True, seed=0, epoch=lambda: 0)
    assert mine.source is source.source
    assert [b[0].tolist() for b in mine] == [[1, 3], [5, 7], [9]]


def test_other_iterables_are_read_whole_and_sliced_per_batch():
    batches = [(torch.arange(5.0), torch.arange(5)), (torch.arange(1.0), torch.arange(1))]
    mine = shard_loader(
        DeviceBatches(batches, CPU), Shard(1, 2), training=True, seed=0, epoch=lambda: 0
    )
    assert isinstance(mine, SlicedBatches)
    assert [b[1].tolist() for b in mine] == [[3, 4]]  # the one-row batch cannot be split
