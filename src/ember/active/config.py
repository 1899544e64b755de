"""The settings of an active-learning comparison, one comment each (``ember list active-fashion``).

Example:
    >>> config = ActiveLearningConfig()
    >>> config.epochs == len(config.labels), config.curves[-1]
    (True, 'pretrained_margin')
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, ClassVar

from ember import checks
from ember.active.pools import check_schedule, check_scored_enough
from ember.active.strategies import STRATEGIES, get_strategy
from ember.errors import ConfigError

PRETRAINED = "pretrained_"  # the prefix of a curve whose classifiers start from the autoencoder


@dataclasses.dataclass
class ActiveLearningConfig:
    """Strategies, label schedule, classifier, training and pretraining of
    :class:`ember.active.StrategyComparison`. One *epoch* of a run is one acquisition round of
    every curve and seed."""

    seed: int = 0  # the first seed: seeds are seed, seed+1, ... (initial pool, weights, draws)
    seeds: int = 3  # repetitions of every curve, each with its own initial pool
    device: str = "cpu"  # where classifiers train ("cpu": a small MLP is fastest there)
    labels: tuple[int, ...] = (
        *range(100, 1001, 100),
        *range(1200, 2001, 200),
    )  # labelled pool's size each round: the first drawn at random, the last the budget
    strategies: tuple[str, ...] = ("random", "entropy", "margin", "bald")  # the curves compared
    # strategies again with classifiers started from the pretrained encoder (empty: none)
    pretrained_strategies: tuple[str, ...] = ("random", "margin")
    hidden: tuple[int, ...] = (256, 128)  # the classifier's hidden widths (an MLP with dropout)
    dropout: float = 0.3  # dropout after each hidden layer (what BALD samples from)
    steps: int = 1000  # gradient steps per round, at least (rounded up to whole epochs)
    batch_size: int = 32  # labelled images per step
    learning_rate: float = 0.001  # Adam's step size, decaying to 0 along a cosine each round
    score_subset: int | None = 5000  # unlabelled images scored per round, at random (None: all)
    bald_passes: int = 20  # BALD's stochastic forward passes with dropout on (T)
    pretrain_epochs: int = 10  # denoising autoencoder's epochs over the pool, once per seed
    pretrain_masking: float = 0.25  # fraction of pixels zeroed in the autoencoder's inputs
    # Acquisition rounds, one per entry of labels: what a run calls its epochs. Derived, so that
    # a new schedule (--set labels=...) brings its own count; cut a run short with Ctrl-C.
    epochs: int = dataclasses.field(init=False, default=0)

    field_checks: ClassVar[dict[str, Any]] = {
        "seed": checks.non_negative_int,
        "seeds": checks.positive_int,
        "steps": checks.positive_int,
        "batch_size": checks.positive_int,
        "learning_rate": checks.positive_number,
        "dropout": checks.rate,
        "score_subset": partial(checks.positive_int, allow_none=True),
        "bald_passes": partial(checks.int_at_least, minimum=2),
        "pretrain_epochs": checks.positive_int,
        "pretrain_masking": checks.rate,
    }

    def __post_init__(self) -> None:
        self.epochs = len(self.labels)

    @property
    def curves(self) -> list[str]:
        """The curves compared: each strategy, then each pretrained one."""
        return [*self.strategies, *(PRETRAINED + name for name in self.pretrained_strategies)]


def check_active_config(config: ActiveLearningConfig, pool_size: int | None = None) -> None:
    """Each field's range, then the settings that must fit together; a ConfigError says which.

    ``pool_size``, when known, is checked against the schedule's first and last label counts.

    Example:
        >>> check_active_config(ActiveLearningConfig(strategies=("margin", "coreset")))
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown acquisition strategy 'coreset'. Known acquisition strategies: bald, entropy, margin, random.
    """
    for name, check in ActiveLearningConfig.field_checks.items():
        check(
            name, getattr(config, name), fix=f"--set {name}={getattr(ActiveLearningConfig(), name)}"
        )
    checks.positive_ints("hidden", config.hidden, allow_empty=False, fix="--set hidden=256,128")
    names = [*config.strategies, *config.pretrained_strategies]
    if not config.strategies:
        raise ConfigError(
            f"expected at least one strategy, received strategies=(). Fix: --set "
            f"strategies=random,margin (known: {', '.join(STRATEGIES.names())})."
        )
    for name in names:
        get_strategy(name)
    for field in ("strategies", "pretrained_strategies"):
        values = getattr(config, field)
        if len(set(values)) != len(values):
            raise ConfigError(f"expected each strategy once, received {field}={values!r}")
    schedule = check_schedule(config.labels, pool_size or max(config.labels))
    check_scored_enough(schedule, config.score_subset)
