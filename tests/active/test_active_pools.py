"""Labelled and unlabelled pools, the label schedule, and their bad inputs."""

from __future__ import annotations

import pytest
import torch

from ember.active import LabelPools, check_schedule
from ember.active.pools import check_scored_enough
from ember.errors import ConfigError, DataError


def pools(size=20, count=5, seed=0):
    return LabelPools.initial(size, count, generator=torch.Generator().manual_seed(seed))


def test_the_initial_pool_is_a_seeded_uniform_draw_and_the_rest_is_unlabelled():
    first = pools()
    expected = torch.randperm(20, generator=torch.Generator().manual_seed(0))
    assert first.labelled.tolist() == expected[:5].tolist()
    assert first.unlabelled.tolist() == sorted(expected[5:].tolist())
    assert torch.equal(pools().labelled, first.labelled)
    assert not torch.equal(pools(seed=1).labelled, first.labelled)


def test_acquire_moves_the_chosen_positions_in_their_ranked_order():
    state = pools()
    before = state.unlabelled.clone()
    chosen = state.acquire(torch.tensor([7, 0, 3]))
    assert chosen.tolist() == [before[7].item(), before[0].item(), before[3].item()]
    assert state.labelled[5:].tolist() == chosen.tolist()
    assert sorted(state.unlabelled.tolist() + chosen.tolist()) == before.tolist()
    assert len(state.labelled) == 8 and state.size == 20
    # the pools never share a position
    assert not set(state.labelled.tolist()) & set(state.unlabelled.tolist())


def test_a_state_dict_round_trip_gives_the_same_pools():
    state = pools()
    state.acquire(torch.tensor([1, 2]))
    copy = LabelPools.from_state(state.state_dict())
    assert torch.equal(copy.labelled, state.labelled)
    assert torch.equal(copy.unlabelled, state.unlabelled)


def test_acquiring_nothing_or_more_than_is_left_is_refused():
    state = pools(size=10, count=8)
    with pytest.raises(ConfigError, match="expected k > 0 images to label this round"):
        state.acquire(torch.tensor([], dtype=torch.int64))
    with pytest.raises(ConfigError, match="budget is larger than the pool: asked for k=3 more"):
        state.acquire(torch.tensor([0, 1, 2]))
    with pytest.raises(DataError, match="expected 2 distinct positions, received \\[1, 1\\]"):
        state.acquire(torch.tensor([1, 1]))
    with pytest.raises(DataError, match="expected positions in 0..1"):
        state.acquire(torch.tensor([5]))


def test_more_initial_labels_than_the_pool_holds_are_refused():
    with pytest.raises(
        ConfigError, match="expected at most 10 initial labels .* initial_labels=11"
    ):
        pools(size=10, count=11)
    with pytest.raises(ConfigError, match="initial labelled pool \\(600 labels\\) is larger than"):
        check_schedule([600, 700], pool_size=500)


def test_the_schedule_rises_every_round_and_fits_the_budget_in_the_pool():
    assert check_schedule([100, 200, 2000], pool_size=60_000) == (100, 200, 2000)
    with pytest.raises(ConfigError, match=r"acquire k > 0 new labels.*from 200 to 200.*\(k=0\)"):
        check_schedule([100, 200, 200], pool_size=1000)
    with pytest.raises(ConfigError, match=r"\(k=-100\)"):
        check_schedule([200, 100], pool_size=1000)
    with pytest.raises(ConfigError) as error:
        check_schedule([100, 200, 2000], pool_size=1500)
    assert str(error.value) == (
        "the label budget (2000 labels) is larger than the pool of 1500 images. Fix: end the "
        "schedule at 1500 labels or fewer, e.g. --set labels=100,200,1500."
    )
    with pytest.raises(ConfigError, match="expected a non-empty sequence of positive integers"):
        check_schedule([], pool_size=10)


def test_a_round_must_score_at_least_the_images_it_labels():
    check_scored_enough([100, 200, 400], score_subset=200)
    check_scored_enough([100, 200, 400], score_subset=None)  # None: the whole pool
    with pytest.raises(ConfigError, match="acquires up to k=200 labels but only score_subset=150"):
        check_scored_enough([100, 200, 400], score_subset=150)
