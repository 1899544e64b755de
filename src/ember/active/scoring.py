"""Score unlabelled images with a trained classifier: one pass in eval mode, or Monte Carlo dropout.

The classifier is any module mapping images to class logits. Its probabilities are computed in
float32 under ``torch.inference_mode``, ``batch_size`` images at a time, and handed to the
strategy (:mod:`ember.active.strategies`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ember import checks
from ember.active.strategies import Strategy, get_strategy, random_scores
from ember.errors import ConfigError
from ember.layers.core import Dropout as KerasDropout

DROPOUT_LAYERS = (nn.modules.dropout._DropoutNd, KerasDropout)


@torch.inference_mode()
def class_probabilities(
    network: nn.Module, images: torch.Tensor, *, batch_size: int = 1000
) -> torch.Tensor:
    """Softmax of ``network(images)`` ``(N, C)`` on the CPU, in float32, in whatever mode the
    network is in (the caller picks eval, or dropout on).

    Example:
        >>> net = nn.Linear(3, 4)
        >>> x = torch.randn(5, 3)
        >>> torch.allclose(class_probabilities(net, x, batch_size=2), net(x).softmax(-1))
        True
    """
    batch_size = checks.positive_int("batch_size", batch_size)
    device = next(network.parameters()).device
    chunks = [
        network(images[start : start + batch_size].to(device)).float().softmax(dim=-1).cpu()
        for start in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks) if chunks else torch.empty(0, 0)


def dropout_layers(network: nn.Module) -> list[nn.Module]:
    """The dropout layers of ``network`` that drop something (rate > 0); none is an error, as
    Monte Carlo dropout would have nothing to sample.

    Example:
        >>> len(dropout_layers(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))))
        1
    """
    dropouts = [
        module
        for module in network.modules()
        if isinstance(module, DROPOUT_LAYERS) and getattr(module, "p", getattr(module, "rate", 1))
    ]
    if not dropouts:
        raise ConfigError(
            f"BALD needs dropout layers with a rate above 0 to sample from, but "
            f"{type(network).__name__} has none. Fix: add dropout to the classifier (e.g. --set "
            f"dropout=0.3), or use strategy 'entropy' or 'margin'."
        )
    return dropouts


@contextmanager
def dropout_on(network: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for every layer but dropout, which samples masks (Gal & Ghahramani 2016); the
    network's modes come back afterwards. A network without dropout is an error.

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4))
        >>> with dropout_on(net):
        ...     [m.training for m in net]
        [False, True, False]
    """
    dropouts = dropout_layers(network)
    modes = {module: module.training for module in network.modules()}
    network.eval()
    for module in dropouts:
        module.train()
    try:
        yield network
    finally:
        for module, mode in modes.items():
            module.training = mode


def score_pool(
    strategy: str | Strategy,
    network: nn.Module,
    images: torch.Tensor,
    *,
    generator: torch.Generator,
    passes: int = 20,
    batch_size: int = 1000,
) -> torch.Tensor:
    """One score per image of ``images`` ``(N, ...)``: higher means label it sooner.

    ``generator`` draws random sampling's scores; Monte Carlo dropout's masks come from torch's
    global generator (seed it for repeatable scores). ``passes`` is BALD's ``T``.

    Example:
        >>> net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 4))
        >>> x = torch.randn(6, 3)
        >>> score_pool("bald", net, x, generator=torch.Generator(), passes=4).shape
        torch.Size([6])
    """
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    if strategy.score is None:  # random sampling reads no prediction
        return random_scores(len(images), generator)
    if strategy.passes == 1:
        was_training = network.training
        network.eval()
        try:
            return strategy.score(class_probabilities(network, images, batch_size=batch_size))
        finally:
            network.train(was_training)
    passes = checks.int_at_least("passes", passes, 2)
    with dropout_on(network):
        sampled = [
            class_probabilities(network, images, batch_size=batch_size) for _ in range(passes)
        ]
    return strategy.score(torch.stack(sampled))  # (T, N, C)
