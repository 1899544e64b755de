"""Acquisition strategies: how much a label for each unlabelled image is worth, from a classifier.

Each strategy maps what a classifier says about the pool to one score per image; the images with
the highest scores are labelled next (:func:`top_k`).

* ``entropy``: the predictive entropy ``H[p] = -sum_c p_c log p_c`` (Shannon 1948; uncertainty
  sampling, Lewis & Gale 1994).
* ``margin``: minus the gap between the two largest class probabilities, so the smallest gap
  scores highest (Scheffer et al. 2001).
* ``bald``: the mutual information between the prediction and the weights, estimated from ``T``
  forward passes with dropout on (Houlsby et al. 2011; Gal, Islam & Ghahramani 2017):
  ``H[mean_t p_t] - mean_t H[p_t]``. High where the passes disagree, not merely where each is
  unsure.
* ``random``: uniform scores: random sampling, the baseline every strategy is measured against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.registry import Registry


def entropy_scores(probabilities: torch.Tensor) -> torch.Tensor:
    """Predictive entropy in nats of each row of ``probabilities`` ``(N, C)``: ``(N,)``.

    Example:
        >>> entropy_scores(torch.tensor([[0.5, 0.5], [1.0, 0.0]]))
        tensor([0.6931, 0.0000])
    """
    _check_probabilities(probabilities, 2, "(N, classes)")
    # entr(p) = -p log p, with entr(0) = 0 where p * log(p) would give NaN
    return torch.special.entr(probabilities).sum(dim=-1)


def margin_scores(probabilities: torch.Tensor) -> torch.Tensor:
    """Minus the gap between the two most probable classes of each row ``(N, C)``: ``(N,)``.

    Example:
        >>> margin_scores(torch.tensor([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]]))
        tensor([-0.2000, -0.8500])
    """
    _check_probabilities(probabilities, 2, "(N, classes)")
    top_two = probabilities.topk(2, dim=-1).values  # (N, 2)
    return top_two[:, 1] - top_two[:, 0]


def bald_scores(sampled_probabilities: torch.Tensor) -> torch.Tensor:
    """BALD's mutual information ``(N,)`` from ``T`` stochastic passes ``(T, N, C)``.

    ``H[mean_t p_t] - mean_t H[p_t]``: the entropy of the averaged prediction minus the average
    entropy of each pass (never negative: entropy is concave).

    Example:
        >>> agree = torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]]])  # T=2 passes, 1 image
        >>> disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
        >>> bald_scores(torch.cat([agree, disagree], dim=1))
        tensor([0.0000, 0.6931])
    """
    _check_probabilities(sampled_probabilities, 3, "(passes, N, classes)")
    mean_entropy = entropy_scores(sampled_probabilities.flatten(0, 1))
    mean_entropy = mean_entropy.view(sampled_probabilities.shape[:2]).mean(dim=0)
    # clamp: rounding can leave -1e-8 where every pass agrees
    return (entropy_scores(sampled_probabilities.mean(dim=0)) - mean_entropy).clamp_(min=0)


def random_scores(count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` scores uniform in [0, 1), drawn from ``generator``: random sampling.

    Example:
        >>> scores = random_scores(3, torch.Generator().manual_seed(0))
        >>> torch.equal(scores, torch.rand(3, generator=torch.Generator().manual_seed(0)))
        True
    """
    checks.non_negative_int("count", count)
    return torch.rand(count, generator=generator)


def top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Positions of the ``k`` highest ``scores``, highest first (ties: the earlier position).

    Example:
        >>> top_k(torch.tensor([0.1, 0.9, 0.5, 0.9]), 3)
        tensor([1, 3, 2])
    """
    k = checks.positive_int("k", k)
    if k > len(scores):
        raise ConfigError(
            f"expected k at most the {len(scores)} scored images, received k={k}. Fix: score "
            f"more images, or acquire fewer per round."
        )
    # a stable sort on the negated scores keeps ties in pool order: the same picks everywhere
    return torch.sort(-scores, stable=True).indices[:k]


@dataclass(frozen=True)
class Strategy:
    """A named acquisition function and what it needs from the classifier.

    ``passes`` is 0 for ``random`` (no prediction and no ``score``: :func:`random_scores`), 1 for
    one deterministic pass in eval mode (``score`` takes ``(N, C)`` probabilities), and ``None``
    for Monte Carlo dropout (``score`` takes ``(T, N, C)`` from ``T`` passes with dropout on).
    """

    name: str
    score: Callable[[torch.Tensor], torch.Tensor] | None
    passes: int | None


STRATEGIES = Registry("acquisition strategy")
STRATEGIES.add("random", Strategy("random", None, 0))
STRATEGIES.add("entropy", Strategy("entropy", entropy_scores, 1))
STRATEGIES.add("margin", Strategy("margin", margin_scores, 1))
STRATEGIES.add("bald", Strategy("bald", bald_scores, None))


def get_strategy(name: str) -> Strategy:
    """The strategy called ``name``; an unknown name lists the known ones.

    Example:
        >>> get_strategy("margin").passes
        1
        >>> get_strategy("variance")
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown acquisition strategy 'variance'. Known acquisition strategies: bald, entropy, margin, random.
    """
    return STRATEGIES.get(name)


def _check_probabilities(probabilities: torch.Tensor, ndim: int, shape: str) -> None:
    if not isinstance(probabilities, torch.Tensor) or probabilities.ndim != ndim:
        received = getattr(probabilities, "shape", type(probabilities).__name__)
        raise ShapeError(
            f"expected class probabilities of shape {shape}, received {received}. Fix: pass "
            f"softmax outputs{' stacked over the passes' if ndim == 3 else ''}."
        )
    if probabilities.shape[-1] < 2:
        raise ShapeError(
            f"expected at least 2 classes, received probabilities of shape "
            f"{tuple(probabilities.shape)}. Fix: pass one probability per class."
        )
