"""Sampling the next token: greedy, temperature, top-k and top-p against closed forms."""

import math

import pytest
import torch

from ember.errors import ConfigError
from ember.nlp.sampling import filter_logits, sample_next


def test_temperature_zero_is_the_argmax_of_each_row():
    logits = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 2.9]])
    assert sample_next(logits, temperature=0, top_k=1).tolist() == [1, 0]


def test_top_k_keeps_exactly_the_k_largest_logits():
    logits = torch.tensor([[0.5, 3.0, 1.0, 2.0]])
    kept = filter_logits(logits, top_k=2)
    assert torch.isfinite(kept).tolist() == [[False, True, False, True]]
    assert torch.equal(kept[torch.isfinite(kept)], torch.tensor([3.0, 2.0]))


def test_top_p_keeps_the_smallest_set_reaching_p():
    probabilities = torch.tensor([0.1, 0.5, 0.25, 0.15])
    logits = probabilities.log()
    # sorted: 0.5, 0.25 (0.75), 0.15 (0.90), 0.1: p=0.75 keeps two, p=0.76 keeps three
    assert torch.isfinite(filter_logits(logits, top_p=0.75)).tolist() == [False, True, True, False]
    assert torch.isfinite(filter_logits(logits, top_p=0.76)).tolist() == [False, True, True, True]
    # The most likely token always stays, however small p is.
    assert torch.isfinite(filter_logits(logits, top_p=0.01)).tolist() == [False, True, False, False]


def test_sampling_frequencies_match_the_tempered_softmax():
    logits = torch.tensor([1.0, 0.0, -1.0])
    temperature = 2.0
    generator = torch.Generator().manual_seed(0)
    draws = sample_next(logits.expand(20000, 3), temperature=temperature, generator=generator)
    frequencies = torch.bincount(draws, minlength=3).float() / len(draws)
    expected = torch.softmax(logits / temperature, -1)
    torch.testing.assert_close(frequencies, expected, atol=0.015, rtol=0)


def test_filtered_tokens_are_never_drawn():
    logits = torch.tensor([2.0, 1.9, 1.8, -5.0]).expand(5000, 4)
    draws = sample_next(logits, top_k=3, generator=torch.Generator().manual_seed(1))
    assert set(draws.tolist()) == {0, 1, 2}


def test_same_seed_same_draws():
    logits = torch.randn(50, 10)
    a = sample_next(logits, generator=torch.Generator().manual_seed(3))
    b = sample_next(logits, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -0.5}, "temperature=-0.5"),
        ({"temperature": math.inf}, "temperature=inf"),
        ({"top_k": 0}, "top_k=0"),
        ({"top_p": 0.0}, "top_p=0.0"),
        ({"top_p": 1.5}, "top_p=1.5"),
    ],
)
def test_bad_sampling_settings_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        sample_next(torch.zeros(1, 3), **kwargs)
