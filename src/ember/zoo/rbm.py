"""The Bernoulli restricted Boltzmann machine: binary visible and hidden units, no lateral links.

An RBM gives each joint state of visible units ``v`` (V of them) and hidden units ``h`` (H) the
energy ``E(v, h) = -b·v - c·h - hᵀWv`` and the probability ``p(v, h) ∝ exp(-E(v, h))``. With no
links inside a layer, each layer's units are independent given the other layer's:
``p(h_j = 1 | v) = σ(c_j + W_j·v)`` and ``p(v_i = 1 | h) = σ(b_i + Wᵀ_i·h)``, which is what makes
block Gibbs sampling cheap. Summing ``h`` out gives the free energy
``F(v) = -b·v - Σ_j softplus(c_j + W_j·v)``, with ``p(v) ∝ exp(-F(v))``.

It is trained by contrastive divergence (:class:`ember.tasks.contrastive_divergence.ContrastiveDivergence`), and
stacked into a deep belief network (:class:`ember.models.dbn.DeepBeliefNetwork`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks


class BernoulliRBM(nn.Module):
    """A restricted Boltzmann machine with binary (Bernoulli) visible and hidden units.

    Inputs are ``(N, V)`` vectors or ``(N, H, W, C)`` images with values in [0, 1] (read as the
    probability that each pixel is on); they are flattened to ``(N, V)``. Calling the RBM returns
    the hidden probabilities ``p(h = 1 | v)``, so a trained RBM is a feature extractor.

    Args:
        visible: number of visible units V (e.g. 784 for 28x28 images).
        hidden: number of hidden units H.
        weight_scale: standard deviation of the initial weights (Hinton's guide: 0.01);
            biases start at zero.

    The weights are stored as ``weight`` of shape ``(hidden, visible)``, the layout of
    ``ember.layers.Dense(hidden).weight``, so they copy straight into an MLP.

    Example:
        >>> import torch
        >>> rbm = BernoulliRBM(visible=6, hidden=3)
        >>> v = torch.bernoulli(torch.full((4, 6), 0.5))
        >>> rbm(v).shape, rbm.free_energy(v).shape, rbm.gibbs(v, steps=2).shape
        (torch.Size([4, 3]), torch.Size([4]), torch.Size([4, 6]))
    """

    def __init__(self, visible: int, hidden: int, *, weight_scale: float = 0.01) -> None:
        super().__init__()
        self.visible = checks.positive_int("visible", visible)
        self.hidden = checks.positive_int("hidden", hidden)
        checks.non_negative_number("weight_scale", weight_scale)
        # Small random weights break the symmetry between hidden units; see Hinton (2010), §8.
        self.weight = nn.Parameter(torch.randn(hidden, visible) * weight_scale)  # (H, V)
        self.visible_bias = nn.Parameter(torch.zeros(visible))  # b, (V,)
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))  # c, (H,)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = -b·v - c·h - hᵀWv`` for each sample: ``(N, V), (N, H) -> (N,)``.

        Example:
            >>> rbm = BernoulliRBM(2, 1)  # biases start at zero: E(v, h) = -hᵀWv
            >>> v, h = torch.ones(1, 2), torch.ones(1, 1)
            >>> torch.allclose(rbm.energy(v, h), -rbm.weight.sum())
            True
        """
        v = v.flatten(1)
        interaction = (F.linear(v, self.weight) * h).sum(-1)  # hᵀWv, (N,)
        return -(v @ self.visible_bias) - (h @ self.hidden_bias) - interaction

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -log Σ_h exp(-E(v, h))`` in closed form: ``(N, V) -> (N,)``.

        Example:
            >>> rbm = BernoulliRBM(3, 2)  # at v = 0 each hidden unit adds -softplus(0) = -log 2
            >>> rbm.free_energy(torch.zeros(1, 3)).detach()
            tensor([-1.3863])
        """
        v = v.flatten(1)
        return free_energy_from_input(
            v, F.linear(v, self.weight, self.hidden_bias), self.visible_bias
        )

    def hidden_probabilities(self, v: torch.Tensor) -> torch.Tensor:
        """``p(h = 1 | v) = σ(Wv + c)``: ``(N, V) -> (N, H)``.

        Example:
            >>> BernoulliRBM(4, 2).hidden_probabilities(torch.zeros(3, 4)).tolist()
            [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
        """
        return torch.sigmoid(F.linear(v.flatten(1), self.weight, self.hidden_bias))

    def visible_probabilities(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v = 1 | h) = σ(Wᵀh + b)``: ``(N, H) -> (N, V)``.

        Example:
            >>> BernoulliRBM(4, 2).visible_probabilities(torch.ones(1, 2)).shape
            torch.Size([1, 4])
        """
        return torch.sigmoid(F.linear(h, self.weight.t(), self.visible_bias))

    def sample_hidden(
        self, v: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A binary sample of ``h`` given ``v``: ``(N, V) -> (N, H)`` of 0s and 1s.

        Example:
            >>> h = BernoulliRBM(4, 2).sample_hidden(torch.zeros(5, 4))
            >>> h.shape, bool(((h == 0) | (h == 1)).all())
            (torch.Size([5, 2]), True)
        """
        with torch.no_grad():
            return torch.bernoulli(self.hidden_probabilities(v), generator=generator)

    def sample_visible(
        self, h: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A binary sample of ``v`` given ``h``: ``(N, H) -> (N, V)`` of 0s and 1s.

        Example:
            >>> BernoulliRBM(4, 2).sample_visible(torch.zeros(5, 2)).shape
            torch.Size([5, 4])
        """
        with torch.no_grad():
            return torch.bernoulli(self.visible_probabilities(h), generator=generator)

    def gibbs(
        self, v: torch.Tensor, steps: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Run ``steps`` rounds of block Gibbs sampling ``v -> h -> v``; return the last ``v``.

        ``steps=0`` returns ``v`` flattened. Pass a seeded ``generator`` for repeatable chains.

        Example:
            >>> rbm = BernoulliRBM(4, 2)
            >>> chain = torch.Generator().manual_seed(0)
            >>> rbm.gibbs(torch.zeros(3, 2, 2), steps=5, generator=chain).shape
            torch.Size([3, 4])
        """
        steps = checks.non_negative_int("steps", steps)
        v = v.flatten(1)
        for _ in range(steps):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        return v

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """The hidden probabilities ``p(h = 1 | v)``, the RBM's features: ``(N, ...) -> (N, H)``."""
        return self.hidden_probabilities(v)

    def extra_repr(self) -> str:
        return f"visible={self.visible}, hidden={self.hidden}"


def free_energy_from_input(
    v: torch.Tensor, hidden_input: torch.Tensor, visible_bias: torch.Tensor
) -> torch.Tensor:
    """``F(v)`` from the hidden units' total input ``Wv + c`` (shared with the training step,
    which needs that input for the hidden probabilities too): ``(N, V), (N, H) -> (N,)``."""
    return -(v @ visible_bias) - F.softplus(hidden_input).sum(-1)
