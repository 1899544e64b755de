"""Choosing the next token from a language model's logits: greedy, temperature, top-k, top-p.

Temperature divides the logits (below 1: safer, above 1: more surprising); top-k keeps the k
most likely tokens; top-p (nucleus sampling, Holtzman et al. 2020) keeps the smallest set of
most likely tokens whose probabilities add up to at least p. What is kept is renormalised and
sampled from.

Example:
    >>> import torch
    >>> logits = torch.tensor([[2.0, 1.0, 0.1, -1.0]])
    >>> sample_next(logits, temperature=0).tolist()  # temperature 0: the most likely token
    [0]
    >>> g = torch.Generator().manual_seed(0)
    >>> int(sample_next(logits, top_k=2, generator=g)[0]) in (0, 1)
    True
"""

from __future__ import annotations

import math

import torch

from ember import checks
from ember.errors import ConfigError


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise a ConfigError for a temperature, top-k or top-p that cannot be used."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ConfigError(f"expected a number >= 0, received temperature={temperature!r}")
    if not 0 <= temperature < math.inf:
        raise ConfigError(
            f"expected a number >= 0, received temperature={temperature!r}. "
            f"Fix: 0 picks the most likely token, 0.5-1.0 is usual."
        )
    checks.positive_int("top_k", top_k, allow_none=True)
    if top_p is not None and not (isinstance(top_p, (int, float)) and 0 < top_p <= 1):
        raise ConfigError(f"expected a number in (0, 1] or None, received top_p={top_p!r}")


def filter_logits(
    logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """``logits`` (..., V) with every token outside the top-k / top-p set at ``-inf``.

    Example:
        >>> filter_logits(torch.tensor([1.0, 3.0, 2.0]), top_k=2).tolist()
        [-inf, 3.0, 2.0]
        >>> filter_logits(torch.log(torch.tensor([0.5, 0.3, 0.2])), top_p=0.8).isinf().tolist()
        [False, False, True]
    """
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]  # (..., 1)
        logits = logits.masked_fill(logits < kth, -math.inf)
    if top_p is not None and top_p < 1:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        # Drop a token when the tokens before it already reach top_p (the first always stays).
        drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, -math.inf)
    return logits


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One token id per row of ``logits`` (N, V): a (N,) long tensor.

    ``temperature=0`` is greedy decoding (the argmax), whatever ``top_k``/``top_p`` say.
    """
    check_sampling(temperature, top_k, top_p)
    logits = logits.float()
    if temperature == 0:
        return logits.argmax(-1)
    probabilities = filter_logits(logits / temperature, top_k, top_p).softmax(-1)  # (N, V)
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)
