"""Streaming generation: cached and recomputed paths agree; prompts and lengths are checked."""

import pytest
import torch
from torch import nn

from ember.errors import ConfigError
from ember.nlp.generation import generate


class CountingBigram(nn.Module):
    """Logits depend on the last token only; ``generation_step`` keeps no state but counts calls."""

    context = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(6, 6)
        self.steps = 0

    def forward(self, ids):  # (N, T) -> (N, T, V)
        return self.embedding(ids)

    def generation_step(self, ids, state):
        self.steps += 1
        return self.embedding(ids)[:, -1], "state"


def test_greedy_generation_follows_the_argmax_chain():
    net = CountingBigram()
    tokens = list(generate(net, [2], 5, temperature=0, use_cache=False))
    expected, last = [], 2
    for _ in range(5):
        last = int(net.embedding.weight[last].argmax())
        expected.append(last)
    assert tokens == expected


def test_cached_and_recomputed_generation_give_the_same_tokens():
    net = CountingBigram()
    cached = list(generate(net, [1, 2, 3], 12, seed=5))
    assert net.steps == 12
    recomputed = list(generate(net, [1, 2, 3], 12, seed=5, use_cache=False))
    assert cached == recomputed


def test_the_same_seed_gives_the_same_text_and_restores_train_mode():
    net = CountingBigram().train()
    assert list(generate(net, [0], 20, seed=1)) == list(generate(net, [0], 20, seed=1))
    assert net.training


def test_empty_prompt_and_bad_length_are_rejected():
    net = CountingBigram()
    with pytest.raises(ConfigError, match="prompt is empty"):
        list(generate(net, [], 3))
    with pytest.raises(ConfigError, match="length=-1"):
        list(generate(net, [1], -1))


def test_suppressed_tokens_are_never_generated():
    net = CountingBigram()
    greedy = list(generate(net, [2], 30, temperature=0, use_cache=False))
    banned = sorted(set(greedy))[:1]
    tokens = list(generate(net, [2], 200, seed=0, suppress=banned))
    assert banned[0] not in tokens
