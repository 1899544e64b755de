"""``active-fashion``: scarce labels on Fashion-MNIST, active learning against random sampling.

Start with 100 random labels of the 60,000 training images; each round, train a fresh MLP on
the labelled pool, test it on the 10,000 test images, and let a strategy pick the next images to
label (entropy, margin, BALD with Monte Carlo dropout, or random) until 2,000 labels. The same
again with each round's classifier started from an encoder pretrained as a denoising
autoencoder on all 60,000 images (no labels read): ``pretrained_random`` and
``pretrained_margin``. Three seeds of each; the report draws test accuracy against labels.

    ember train active-fashion
    ember train active-fashion --set seeds=1 strategies=random,margin pretrained_strategies=

One *epoch* is one acquisition round of every curve and seed. See docs/active.md for the
figures and ember.active for the parts.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from ember.active import ActiveLearningConfig, StrategyComparison, check_active_config
from ember.recipes.config import positive_int_or_none
from ember.recipes.images import load_images


@dataclasses.dataclass
class Config(ActiveLearningConfig):
    """active-fashion's settings: :class:`ember.active.ActiveLearningConfig` and the data."""

    dataset: str = "fashion_mnist"  # which images: fashion_mnist or mnist
    pool_size: int | None = None  # a stratified subset of the training images (None: all)
    test_size: int | None = None  # score on the first test images only (None: all 10,000)

    field_checks: ClassVar = {
        "pool_size": positive_int_or_none,
        "test_size": positive_int_or_none,
    }


def check_config(config: Config) -> None:
    """The schedule, the strategies and the pool's size fit together (before any data loads)."""
    check_active_config(config, pool_size=config.pool_size)


def build(config: Config) -> StrategyComparison:
    """The pool (training images; labels read only once acquired), the test images, the agent."""
    data = load_images(
        config.dataset, validation_size=0, seed=config.seed, train_samples=config.pool_size
    )
    test_images, test_labels = data.test
    size = config.test_size or len(test_images)
    return StrategyComparison(config, data.train, (test_images[:size], test_labels[:size]))
