"""Acquisition strategies against hand-computed values, and scoring a pool with a network."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ember.active import (
    bald_scores,
    class_probabilities,
    dropout_on,
    entropy_scores,
    get_strategy,
    margin_scores,
    random_scores,
    score_pool,
    top_k,
)
from ember.errors import ConfigError, ShapeError, UnknownNameError

PROBABILITIES = torch.tensor([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0]])


def test_entropy_is_minus_sum_p_log_p_in_nats():
    expected = [
        -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)),  # 0.8018
        -(2 * 0.4 * math.log(0.4) + 0.2 * math.log(0.2)),  # 1.0549
        0.0,  # a certain prediction: 0 log 0 counts as 0, not NaN
    ]
    torch.testing.assert_close(entropy_scores(PROBABILITIES), torch.tensor(expected))
    uniform = torch.full((1, 10), 0.1)
    torch.testing.assert_close(entropy_scores(uniform), torch.tensor([math.log(10)]))


def test_margin_scores_minus_the_gap_between_the_top_two_probabilities():
    # gaps 0.5, 0.0 (a tie: the hardest call) and 1.0
    torch.testing.assert_close(margin_scores(PROBABILITIES), torch.tensor([-0.5, 0.0, -1.0]))
    assert top_k(margin_scores(PROBABILITIES), 3).tolist() == [1, 0, 2]


def test_bald_is_the_entropy_of_the_mean_minus_the_mean_entropy():
    passes = torch.tensor(
        [
            [[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]],  # pass 1
            [[0.1, 0.9], [0.5, 0.5], [0.6, 0.4]],  # pass 2
        ]
    )  # (T=2, N=3, C=2)

    def entropy(p):
        return -sum(x * math.log(x) for x in p if x > 0)

    expected = [
        entropy([0.5, 0.5]) - entropy([0.9, 0.1]),  # passes disagree: 0.6931 - 0.3251
        0.0,  # both unsure in the same way: entropy high, information 0
        0.0,  # both agree
    ]
    torch.testing.assert_close(bald_scores(passes), torch.tensor(expected))
    # the averaged prediction cannot tell the first two apart; BALD ranks the disagreement first
    log2 = torch.tensor([math.log(2)] * 2)
    torch.testing.assert_close(entropy_scores(passes.mean(0))[:2], log2)
    assert top_k(bald_scores(passes), 1).tolist() == [0]


def test_random_scores_come_from_the_generator_and_repeat_with_its_seed():
    first = random_scores(5, torch.Generator().manual_seed(3))
    again = random_scores(5, torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, torch.rand(5, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(first, again)
    assert not torch.equal(first, random_scores(5, torch.Generator().manual_seed(4)))


def test_top_k_keeps_ties_in_pool_order_and_checks_k():
    scores = torch.tensor([0.2, 0.9, 0.9, 0.1])
    assert top_k(scores, 2).tolist() == [1, 2]
    with pytest.raises(ConfigError, match="expected a positive integer, received k=0"):
        top_k(scores, 0)
    with pytest.raises(ConfigError, match="expected k at most the 4 scored images, received k=5"):
        top_k(scores, 5)


def test_an_unknown_strategy_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as error:
        get_strategy("least_confidence")
    assert "Known acquisition strategies: bald, entropy, margin, random." in str(error.value)
    assert get_strategy("BALD").name == "bald"  # case and underscores do not matter


def test_probabilities_of_the_wrong_shape_are_refused():
    with pytest.raises(ShapeError, match=r"expected class probabilities of shape \(N, classes\)"):
        entropy_scores(torch.rand(4))
    with pytest.raises(
        ShapeError, match=r"\(passes, N, classes\), received torch.Size\(\[4, 3\]\)"
    ):
        bald_scores(torch.rand(4, 3))
    with pytest.raises(ShapeError, match="expected at least 2 classes"):
        margin_scores(torch.ones(4, 1))


def network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 4))


def test_a_single_pass_strategy_scores_the_networks_softmax_in_eval_mode():
    net, images = network().train(), torch.randn(7, 6)
    expected = margin_scores(net.eval()(images).softmax(-1)).detach()
    net.train()
    scores = score_pool("margin", net, images, generator=torch.Generator(), batch_size=3)
    torch.testing.assert_close(scores, expected)
    assert net.training  # its mode comes back


def test_bald_samples_dropout_masks_and_leaves_the_modes_as_they_were():
    net, images = network().eval(), torch.randn(9, 6)
    torch.manual_seed(5)
    scores = score_pool("bald", net, images, generator=torch.Generator(), passes=6)
    torch.manual_seed(5)  # the same masks, drawn by hand: dropout on, everything else in eval
    net[2].train()
    with torch.inference_mode():
        sampled = torch.stack([net(images).softmax(-1) for _ in range(6)])
    net[2].eval()
    torch.testing.assert_close(scores, bald_scores(sampled))
    assert scores.min() > 0  # the masks differ, so the passes disagree somewhat
    assert not any(module.training for module in net.modules())


def test_dropout_on_turns_only_dropout_on_and_needs_some():
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.2)).train()
    with dropout_on(net):
        assert [m.training for m in net] == [False, False, True]
    assert all(m.training for m in net)
    with pytest.raises(ConfigError, match="BALD needs dropout layers .* Fix: add dropout"):
        score_pool("bald", nn.Linear(6, 4), torch.randn(3, 6), generator=torch.Generator())
    with pytest.raises(ConfigError, match="expected an integer >= 2, received passes=1"):
        score_pool("bald", network(), torch.randn(3, 6), generator=torch.Generator(), passes=1)


def test_random_sampling_reads_no_prediction():
    class Refuses(nn.Linear):
        def forward(self, x):
            raise AssertionError("random sampling called the network")

    scores = score_pool("random", Refuses(6, 4), torch.randn(5, 6), generator=torch.Generator())
    assert scores.shape == (5,)


def test_class_probabilities_are_batched_softmax_rows():
    net, images = network().eval(), torch.randn(10, 6)
    probabilities = class_probabilities(net, images, batch_size=4)
    torch.testing.assert_close(probabilities, net(images).softmax(-1).detach())
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(10))
