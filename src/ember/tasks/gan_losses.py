"""The GAN losses, from the discriminator's scores (logits, or a critic's unbounded scores).

* ``"non_saturating"`` (Goodfellow et al. 2014): the discriminator minimises
  ``-mean log D(x) - mean log(1 - D(G(z)))`` with ``D = sigmoid(logits)``; the generator
  minimises ``-mean log D(G(z))`` rather than ``mean log(1 - D(G(z)))``, whose gradient vanishes
  while the discriminator still wins easily.
* ``"wasserstein_gp"`` (Gulrajani et al. 2017): the critic minimises
  ``mean D(G(z)) - mean D(x)`` plus ``lambda`` times :func:`gradient_penalty`; the generator
  minimises ``-mean D(G(z))``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("non_saturating", "wasserstein_gp")


def discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor, loss: str
) -> torch.Tensor:
    """The discriminator's loss from its scores ``(N,)`` of real and of fake images.

    For ``"non_saturating"`` it is the sum of the two binary cross-entropies (real images
    labelled 1, fakes 0), each a mean over its batch; with WGAN-GP it leaves the penalty out.

    Example:
        >>> round(float(discriminator_loss(torch.zeros(4), torch.zeros(4), "non_saturating")), 4)
        1.3863
    """
    if loss == "wasserstein_gp":
        return fake_scores.mean() - real_scores.mean()
    real_term = F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
    fake_term = F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
    return real_term + fake_term


def generator_loss(fake_scores: torch.Tensor, loss: str) -> torch.Tensor:
    """The generator's loss from the discriminator's scores ``(N,)`` of its images.

    Example:
        >>> round(float(generator_loss(torch.zeros(4), "non_saturating")), 4)  # ln 2
        0.6931
    """
    if loss == "wasserstein_gp":
        return -fake_scores.mean()
    return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    mix: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP's penalty ``mean (||grad critic(x_hat)||_2 - 1)^2``, ``x_hat = m x + (1 - m) x~``.

    ``mix`` holds each interpolate's share ``m`` of the real image, ``(N,)``; uniform in
    [0, 1] if None (as in the paper). The gradient is taken per image over all its pixels, and
    its graph is kept (``create_graph``), so that the penalty trains the critic.

    Example:
        >>> critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1))
        >>> with torch.no_grad():
        ...     _ = critic[1].weight.fill_(0.5)  # gradient (0.5, 0.5, 0.5, 0.5): norm 1
        >>> penalty = gradient_penalty(critic, torch.rand(3, 2, 2, 1), torch.rand(3, 2, 2, 1))
        >>> float(penalty.detach())
        0.0
    """
    if mix is None:
        mix = torch.rand(len(real), device=real.device, dtype=real.dtype)
    mix = mix.reshape(-1, *([1] * (real.ndim - 1)))  # (N, 1, 1, 1): one share per image
    interpolates = (mix * real + (1 - mix) * fake).requires_grad_(True)
    scores = critic(interpolates) if labels is None else critic(interpolates, labels)
    (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    return (gradients.flatten(1).norm(2, dim=1) - 1).square().mean()
