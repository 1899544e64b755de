"""Contrastive divergence (CD-k and persistent CD): the task that trains a Bernoulli RBM.

The log-likelihood gradient of an RBM is ``<v hᵀ>_data - <v hᵀ>_model``; CD estimates the model
term from ``k`` Gibbs steps started at the data (Hinton, 2002), persistent CD from chains that
carry on from one step to the next (Tieleman, 2008). Both are the gradient of the *surrogate*

    loss = mean F(v_data) - mean F(v_model)        (F: free energy; v_model held fixed)

since ``∂F(v)/∂W = -p(h | v) vᵀ``. The task returns that surrogate as ``"loss"``, so the engine's
own ``backward`` and optimizer step apply the CD update: plain SGD gives the textbook rule, and
momentum, weight decay, Adam or a schedule come for free. The surrogate's value is not a
likelihood (it can be negative); watch ``reconstruction`` and ``pseudo_log_likelihood`` instead.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.train.task import Task
from ember.zoo.rbm import BernoulliRBM, free_energy_from_input

Batch = tuple[torch.Tensor, ...]


class ContrastiveDivergence(Task):
    """Trains a :class:`~ember.zoo.rbm.BernoulliRBM` by CD-k or persistent CD on the engine.

    A batch is ``(x,)`` or ``(x, y)`` (``y`` is ignored); ``x`` holds ``(N, V)`` vectors or
    ``(N, H, W, C)`` images with values in [0, 1]. Logged per batch and averaged per epoch:

    * ``loss``: the surrogate ``mean F(v_data) - mean F(v_model)`` whose gradient is CD's;
    * ``free_energy``: mean ``F(v_data)``; a ``val_free_energy`` drifting above it means
      overfitting (Hinton's guide, §6);
    * ``reconstruction``: mean squared error between ``v`` and ``p(v | h)``, ``h`` sampled from
      ``p(h | v)`` (one Gibbs step);
    * ``pseudo_log_likelihood``: ``V log p(v_i | v_-i)`` for one random unit ``i`` per sample, a
      cheap stochastic estimate (scikit-learn's ``score_samples``); higher is better.

    Args:
        rbm: the RBM to train.
        k: Gibbs steps per update (CD-1 is the usual choice).
        persistent: keep the Gibbs chains between updates (PCD) instead of restarting them at
            the data. The chains are the task's state: ``state_dict()``/``load_state_dict()``
            carry them through checkpoints, so a resumed run continues them exactly.
        chains: how many persistent chains (default: the first batch's size).

    Example:
        >>> import torch, ember
        >>> from ember.zoo.rbm import BernoulliRBM
        >>> x = torch.bernoulli(torch.full((64, 8), 0.3))
        >>> task = ContrastiveDivergence(BernoulliRBM(8, 4), k=1)
        >>> trainer = ember.Trainer(task, ember.optimizers.SGD(0.1), epochs=2, device="cpu")
        >>> sorted(trainer.fit(x, batch_size=16, verbose=0).history)
        ['free_energy', 'loss', 'pseudo_log_likelihood', 'reconstruction']
    """

    metrics = None  # every score comes from the step outputs, averaged by the engine

    def __init__(
        self,
        rbm: BernoulliRBM,
        k: int = 1,
        persistent: bool = False,
        *,
        chains: int | None = None,
    ) -> None:
        if not isinstance(rbm, BernoulliRBM):
            raise ConfigError(
                f"ContrastiveDivergence trains a BernoulliRBM, received {type(rbm).__name__}. "
                f"Fix: pass ember.zoo.rbm.BernoulliRBM(visible, hidden)."
            )
        k = checks.positive_int("k", k)
        if chains is not None:
            chains = checks.positive_int("chains", chains)
        super().__init__(rbm)  # what the engine moves, optimizes and checkpoints
        self.rbm = rbm
        self.k = k
        self.persistent = bool(persistent)
        self.chains = chains
        self.chain: torch.Tensor | None = None  # (chains, V) visible states of the PCD chains

    # -- set-up and state ---------------------------------------------------------------------
    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the data (whole, when in memory) before the first step: size and [0, 1] range."""
        check_visible_data(example[0], self.rbm.visible)
        if self.chain is not None:
            self.chain = self.chain.to(device)

    def state_dict(self) -> dict[str, Any]:
        """The persistent chains (None until the first PCD step, and always for plain CD)."""
        return {"chain": None if self.chain is None else self.chain.detach().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the chains saved by :meth:`state_dict` (e.g. from a run's checkpoint)."""
        chain = state.get("chain")
        if chain is not None and (chain.ndim != 2 or chain.shape[1] != self.rbm.visible):
            raise ShapeError(
                f"the saved chains have shape {tuple(chain.shape)}, but this RBM has "
                f"{self.rbm.visible} visible units, so (chains, {self.rbm.visible}) was expected. "
                f"Fix: load the state into a task whose RBM has the same visible size."
            )
        weight = self.rbm.weight
        self.chain = None if chain is None else chain.to(weight.device, weight.dtype)

    # -- steps --------------------------------------------------------------------------------
    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One CD-k (or PCD-k) estimate; the engine's backward and optimizer step apply it."""
        return self._step(self._visible(batch), advance_chains=self.persistent)

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The same scores, with chains started at the data (the persistent ones stay as they
        are: evaluating must not change what training continues from)."""
        return self._step(self._visible(batch), advance_chains=False)

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """The hidden probabilities ``p(h = 1 | v)``: the RBM's features of ``batch[0]``."""
        return self.rbm(self._visible(batch))

    def _visible(self, batch: Batch) -> torch.Tensor:
        # Integer 0/1 data is fine too: one cast, free when the data is already float.
        return batch[0].flatten(1).to(self.rbm.weight.dtype)  # (B, V)

    def _step(self, v_data: torch.Tensor, advance_chains: bool) -> dict[str, torch.Tensor]:
        rbm = self.rbm
        # Positive phase. The hidden input Wv + c serves both F(v_data), with its gradient,
        # and p(h | v_data) for the first Gibbs step: one matrix product instead of two.
        hidden_input = F.linear(v_data, rbm.weight, rbm.hidden_bias)  # (B, H)
        free_energy_data = free_energy_from_input(v_data, hidden_input, rbm.visible_bias)  # (B,)
        with torch.no_grad():
            if advance_chains:
                # PCD: the chains carry on from the last update (their draws come first).
                if self.chain is None:
                    self.chain = self._first_chains(v_data)
                self.chain = v_model = rbm.gibbs(self.chain, self.k)  # (chains, V)
            h_data = torch.bernoulli(torch.sigmoid(hidden_input))  # (B, H)
            reconstruction = rbm.visible_probabilities(h_data)  # (B, V): one Gibbs step
            if not advance_chains:
                # CD-k: that step is also the chain's first. The draws are the ones
                # rbm.gibbs(v_data, k) makes, in the same order (the tests rely on it).
                v_model = rbm.gibbs(torch.bernoulli(reconstruction), self.k - 1)
            scores = {
                "free_energy": free_energy_data.detach().mean(),
                "reconstruction": (v_data - reconstruction).square().mean(),
                "pseudo_log_likelihood": self._pseudo_log_likelihood(v_data, hidden_input),
            }
        # Negative phase: v_model carries no gradient, so backward gives exactly
        # <v p(h|v)ᵀ>_model - <v p(h|v)ᵀ>_data (the CD update, negated for descent).
        loss = free_energy_data.mean() - rbm.free_energy(v_model).mean()
        return {"loss": loss, **scores}

    def _first_chains(self, v_data: torch.Tensor) -> torch.Tensor:
        # Start the chains at the first batch (cycled if more chains are asked for): a state
        # the data says is likely, reached with no random draw.
        count = self.chains or len(v_data)
        index = torch.arange(count, device=v_data.device) % len(v_data)
        return v_data.index_select(0, index).clone()

    def _pseudo_log_likelihood(
        self, v_data: torch.Tensor, hidden_input: torch.Tensor
    ) -> torch.Tensor:
        # log p(v_i | v_-i) = log σ(F(v with unit i flipped) - F(v)); V times it for one random
        # unit per sample estimates the pseudo-log-likelihood Σ_i log p(v_i | v_-i). Flipping
        # one unit moves the hidden input by one column of W, so no second matrix product.
        rbm, rows = self.rbm, torch.arange(len(v_data), device=v_data.device)
        units = torch.randint(0, v_data.shape[1], (len(v_data),), device=v_data.device)
        change = 1 - 2 * v_data[rows, units]  # flipped minus original value, (B,)
        flipped_input = hidden_input + change[:, None] * rbm.weight[:, units].T  # (B, H)
        softplus_change = F.softplus(flipped_input) - F.softplus(hidden_input)
        gap = -change * rbm.visible_bias[units] - softplus_change.sum(-1)  # F(flipped) - F(v)
        return v_data.shape[1] * F.logsigmoid(gap).mean()


def check_visible_data(x: torch.Tensor, visible: int) -> None:
    """Raise an ember error unless ``x`` is ``(N, ...)`` data of ``visible`` values in [0, 1].

    Example:
        >>> check_visible_data(torch.rand(5, 2, 2, 1), visible=4)  # 2x2x1 images: 4 values each
        >>> check_visible_data(torch.rand(5, 3), visible=4)
        Traceback (most recent call last):
        ...
        ember.errors.ShapeError: the RBM has 4 visible units, but the data has 3 values per sample...
    """
    if x.ndim < 2:
        raise ShapeError(
            f"an RBM takes (N, V) vectors or (N, H, W, C) images, received data of shape "
            f"{tuple(x.shape)}. Fix: add the sample axis, e.g. x.reshape(len(x), -1)."
        )
    size = x[0].numel()
    if size != visible:
        raise ShapeError(
            f"the RBM has {visible} visible units, but the data has {size} values per sample "
            f"(shape {tuple(x.shape)}). Fix: build the RBM with visible={size}, or pass data "
            f"with {visible} values per sample."
        )
    if not len(x):
        return
    low, high = float(x.min()), float(x.max())  # one read, once per fit
    if low < 0 or high > 1:
        fix = (
            "divide by 255 (e.g. x / 255.0): 8-bit images are 0-255"
            if high > 1 and low >= 0
            else "rescale it to [0, 1], e.g. (x - x.min()) / (x.max() - x.min())"
        )
        raise DataError(
            f"a Bernoulli RBM models values in [0, 1] (each the probability that a unit is on), "
            f"received data in [{low:g}, {high:g}]. Fix: {fix}."
        )
