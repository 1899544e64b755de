"""Streaming text generation from a language model: tokens come out as they are produced.

A network that maps ``(N, T)`` ids to ``(N, T, V)`` logits can generate: each new token is
sampled (see :mod:`ember.nlp.sampling`) from the logits at the last position. Recomputing the
whole context for every token costs O(T) work per token; a network with an incremental
``generation_step(ids, state) -> (logits, state)`` (a recurrent state, or a transformer's
key/value cache) does O(1) new work per token. ``generate(..., use_cache=False)`` forces the
recomputing path, which is how the two are compared (``benchmarks/generation.py``).

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Embedding(5, 8), torch.nn.Linear(8, 5))
    >>> tokens = list(generate(net, [1, 2], 4, temperature=0))
    >>> len(tokens)
    4
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.nlp.sampling import check_sampling, sample_next


@torch.inference_mode()
def generate(
    network: nn.Module,
    prompt: Sequence[int] | torch.Tensor,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    use_cache: bool = True,
    context: int | None = None,
    suppress: Sequence[int] = (),
) -> Iterator[int]:
    """Yield ``length`` new token ids after ``prompt``, one at a time.

    Args:
        network: ids ``(N, T)`` -> logits ``(N, T, V)``; used in eval mode.
        prompt: the token ids to continue (at least one).
        length: how many tokens to generate.
        temperature, top_k, top_p: see :func:`ember.nlp.sampling.sample_next`.
        seed: seeds the sampling, so the same seed gives the same text.
        use_cache: use the network's ``generation_step`` when it has one.
        context: the most tokens the network sees at once (its sequence length); older
            tokens are dropped from the window. ``None``: the network's ``context`` attribute,
            else unlimited.
        suppress: token ids never to generate (a tokenizer's padding id, say).
    """
    check_sampling(temperature, top_k, top_p)
    length = checks.int_at_least("length", length, 0)
    ids = torch.as_tensor(prompt, dtype=torch.long).flatten()
    if ids.numel() == 0:
        raise ConfigError("the prompt is empty. Fix: give at least one token to continue.")
    context = context or getattr(network, "context", None)
    device = next((p.device for p in network.parameters()), torch.device("cpu"))
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()  # a fresh random seed, leaving torch's global generator alone
    else:
        generator.manual_seed(seed)
    was_training = network.training
    network.eval()
    try:
        history = ids.to(device)
        if context is not None:
            history = history[-context:]
        step = getattr(network, "generation_step", None) if use_cache else None
        state: Any = None
        banned = torch.as_tensor(list(suppress), dtype=torch.long, device=device)
        window = history[None]  # (1, t): the first call sees the whole prompt
        for _ in range(length):
            if step is not None:
                logits, state = step(window, state)  # (1, V)
            else:
                logits = network(window)[:, -1]  # (1, V): recompute the whole window
            if suppress:
                logits = logits.index_fill(-1, banned, float("-inf"))
            token = sample_next(
                logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
            )  # (1,)
            yield int(token)
            history = torch.cat([history, token])
            if context is not None and len(history) > context:
                history = history[-context:]
                state = None  # the window slid: a cache of dropped positions is stale
            window = token[None] if state is not None else history[None]
    finally:
        network.train(was_training)
