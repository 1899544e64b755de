"""The active-learning loop for one strategy and one seed: train, test, score, acquire, repeat.

Each round (:meth:`ActiveLearner.step`):

1. a **fresh** classifier (new random weights, or the pretrained encoder) is trained by the
   engine on the labelled pool for at least ``steps`` gradient steps (whole epochs), the learning
   rate decaying to 0 along a cosine: retraining from scratch is the usual protocol, so that a
   round's accuracy depends on which images are labelled, not on the path that got there;
2. its accuracy on the held-out test images is recorded against the number of labels;
3. unless this was the last round, a random subset of ``score_subset`` unlabelled images is
   scored by the strategy (all of them when None) and the ``k`` best move to the labelled pool,
   ``k`` being the schedule's next step.

Every random draw of round ``r`` (initial weights, batch order, dropout, the subset, random
sampling) comes from a seed derived from ``(seed, r)``, so a learner rebuilt from its
:meth:`~ActiveLearner.state_dict` (the pools and the curve so far) continues exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import checks, optimizers, schedules
from ember.active.pools import LabelPools, check_schedule, check_scored_enough
from ember.active.scoring import class_probabilities, dropout_layers, score_pool
from ember.active.strategies import get_strategy, top_k
from ember.data.batches import TensorBatches
from ember.errors import ConfigError, DataError
from ember.seeding import set_seed
from ember.tasks.supervised import Supervised
from ember.train import Trainer
from ember.train.precision import resolve_device

Split = tuple[torch.Tensor, torch.Tensor]  # images (N, H, W, C), integer labels (N,)


@dataclass(frozen=True)
class RoundSettings:
    """How each round trains its classifier and scores the pool."""

    steps: int = 1000  # gradient steps per round, at least (rounded up to whole epochs)
    batch_size: int = 32  # labelled images per step
    learning_rate: float = 1e-3  # Adam's step size, decaying to 0 along a cosine each round
    score_subset: int | None = 5000  # unlabelled images scored per round, drawn at random
    passes: int = 20  # BALD's stochastic forward passes (T)
    device: str = "cpu"  # where the classifier trains ("cpu": a small MLP is fastest there)

    def __post_init__(self) -> None:
        checks.positive_int("steps", self.steps)
        checks.positive_int("batch_size", self.batch_size)
        checks.positive_number("learning_rate", self.learning_rate)
        checks.positive_int("score_subset", self.score_subset, allow_none=True)
        checks.int_at_least("passes", self.passes, 2)


def round_seed(seed: int, round_index: int) -> int:
    """The seed of round ``round_index`` of a learner seeded ``seed`` (NumPy's SeedSequence).

    Example:
        >>> round_seed(0, 1) == round_seed(0, 1) != round_seed(1, 0)
        True
    """
    return int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])


def train_classifier(
    network: nn.Module, train: Split, settings: RoundSettings, *, seed: int
) -> nn.Module:
    """Train ``network`` (images to logits) on ``train`` with the engine: Adam, cosine decay,
    sparse categorical cross-entropy, ``settings.steps`` steps rounded up to whole epochs. The
    batches' order comes from ``seed``; dropout draws from torch's global generator.

    Example:
        >>> x, y = torch.rand(20, 4, 4, 1), torch.arange(20) % 2
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        >>> net = train_classifier(net, (x, y), RoundSettings(steps=5, batch_size=8), seed=0)
        >>> net.training
        False
    """
    device = resolve_device(settings.device)
    task = Supervised(network, "sparse_categorical_crossentropy", from_logits=True)
    optimizer = optimizers.Adam(learning_rate=schedules.CosineDecay(settings.learning_rate))
    trainer = Trainer(task, optimizer, device=device)
    order = torch.Generator().manual_seed(seed)
    # ready batches on the device (the engine takes them as they are), in the order of `seed`
    tensors = tuple(tensor.to(device) for tensor in train)
    batches = TensorBatches(tensors, settings.batch_size, shuffle=True, generator=order)
    epochs = math.ceil(settings.steps / len(batches))
    trainer.fit(batches, epochs=epochs, verbose=0)
    return network.eval()


class ActiveLearner:
    """Active learning on one pool with one strategy: one :meth:`step` per entry of ``schedule``.

    Args:
        strategy: ``"random"``, ``"entropy"``, ``"margin"`` or ``"bald"``.
        pool: the images that may be labelled and their labels ``(images, labels)``; a label is
            read only once its image is in the labelled pool.
        test: held-out ``(images, labels)`` each round's classifier is scored on.
        schedule: the labelled pool's size at each round, rising; the first is the initial
            pool (drawn at random), the last the budget.
        network: makes a fresh classifier (images to logits) for each round.
        settings: training and scoring (:class:`RoundSettings`).
        seed: seeds the initial pool and every round (learners of one seed share them).

    Example:
        >>> x, y = torch.rand(60, 4, 4, 1), torch.arange(60) % 3
        >>> make = lambda: nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Dropout(0.2),
        ...                              nn.Linear(8, 3))
        >>> learner = ActiveLearner("bald", (x, y), (x, y), [10, 15, 20], network=make,
        ...                         settings=RoundSettings(steps=2, passes=2))
        >>> [learner.step()["labels"] for _ in range(3)], len(learner.pools.labelled)
        ([10, 15, 20], 20)
    """

    def __init__(
        self,
        strategy: str,
        pool: Split,
        test: Split,
        schedule: Sequence[int],
        *,
        network: Callable[[], nn.Module],
        settings: RoundSettings = RoundSettings(),
        seed: int = 0,
    ) -> None:
        self.strategy = get_strategy(strategy)
        self.pool, self.test = _check_split(pool, "pool"), _check_split(test, "test")
        self.schedule = check_schedule(schedule, len(pool[0]))
        check_scored_enough(self.schedule, settings.score_subset)
        if self.strategy.passes is None:  # Monte Carlo dropout: fail now, not after a round
            dropout_layers(network())
        self.network, self.settings, self.seed = network, settings, seed
        generator = torch.Generator().manual_seed(seed)
        self.pools = LabelPools.initial(len(pool[0]), self.schedule[0], generator=generator)
        self.accuracies: list[float] = []  # test accuracy after each round so far

    @property
    def round(self) -> int:
        """Rounds done."""
        return len(self.accuracies)

    @property
    def done(self) -> bool:
        """Whether every round of the schedule is done."""
        return self.round == len(self.schedule)

    def step(self) -> dict[str, Any]:
        """One round: train a fresh classifier, test it, acquire the next labels."""
        if self.done:
            raise ConfigError(
                f"all {len(self.schedule)} rounds of the schedule are done. Fix: build a learner "
                f"with a longer schedule."
            )
        seed = round_seed(self.seed, self.round)
        labelled = self.pools.labelled
        train = (self.pool[0][labelled], self.pool[1][labelled])
        set_seed(seed)  # the fresh weights and dropout's masks: the same after a resume
        network = train_classifier(self.network(), train, self.settings, seed=seed)
        predicted = class_probabilities(network, self.test[0]).argmax(dim=-1)
        accuracy = (predicted == self.test[1]).double().mean().item()
        labels = len(labelled)
        self.accuracies.append(accuracy)
        if not self.done:
            self._acquire(network, self.schedule[self.round] - labels, seed)
        return {"labels": labels, "accuracy": accuracy}

    def _acquire(self, network: nn.Module, k: int, seed: int) -> None:
        unlabelled = self.pools.unlabelled
        generator = torch.Generator().manual_seed(seed)
        size = min(self.settings.score_subset or len(unlabelled), len(unlabelled))
        subset = torch.randperm(len(unlabelled), generator=generator)[:size]  # (S,) positions
        set_seed(seed)  # Monte Carlo dropout's masks
        scores = score_pool(
            self.strategy,
            network,
            self.pool[0][unlabelled[subset]],
            generator=generator,
            passes=self.settings.passes,
        )
        self.pools.acquire(subset[top_k(scores, k)])

    def state_dict(self) -> dict[str, Any]:
        """The pools and the accuracies so far: all a resumed learner needs."""
        return {
            **self.pools.state_dict(),
            "accuracies": torch.tensor(self.accuracies, dtype=torch.float64),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.pools = LabelPools.from_state(state)
        self.accuracies = [float(a) for a in state["accuracies"].tolist()]


def _check_split(split: Split, name: str) -> Split:
    images, labels = split
    if len(images) != len(labels) or labels.ndim != 1 or labels.is_floating_point():
        raise DataError(
            f"expected {name} images (N, ...) and N integer labels, received images of shape "
            f"{tuple(images.shape)} and labels of shape {tuple(labels.shape)} "
            f"({labels.dtype}). Fix: pass one class index per image."
        )
    return images, labels
