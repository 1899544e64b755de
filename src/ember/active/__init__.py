"""Active learning: label the images a classifier is least sure of, not random ones.

* Strategies (:mod:`ember.active.strategies`): :func:`entropy_scores`, :func:`margin_scores`,
  :func:`bald_scores` (Monte Carlo dropout), :func:`random_scores`, :func:`top_k`; by name with
  :func:`get_strategy`. :func:`score_pool` scores unlabelled images with a trained classifier.
* The loop: :class:`ActiveLearner` (one strategy, one seed: train a fresh classifier on the
  labelled pool, test it, move the top-k of the unlabelled pool into the labelled one) over
  :class:`LabelPools`, with :class:`RoundSettings`.
* Pretraining on the unlabelled pool: :func:`pretrain_encoder` (a denoising autoencoder with
  the classifier's encoder).
* :class:`StrategyComparison` (with :class:`ActiveLearningConfig`): every strategy and seed as
  one ember agent, so ``ember train active-fashion`` logs, checkpoints, resumes and reports it;
  :func:`plot_learning_curves` draws accuracy against labels.

Example:
    >>> import torch
    >>> from ember import active
    >>> probabilities = torch.tensor([[0.5, 0.4, 0.1], [0.9, 0.05, 0.05]])
    >>> active.top_k(active.margin_scores(probabilities), 1)  # the closer call first
    tensor([0])
"""

from ember.active.comparison import StrategyComparison
from ember.active.config import ActiveLearningConfig, check_active_config
from ember.active.curves import labels_to_reach, plot_learning_curves
from ember.active.learner import ActiveLearner, RoundSettings, train_classifier
from ember.active.networks import Classifier, PretrainingAutoencoder
from ember.active.pools import LabelPools, check_schedule
from ember.active.pretraining import pretrain_encoder
from ember.active.scoring import class_probabilities, dropout_on, score_pool
from ember.active.strategies import (
    STRATEGIES,
    Strategy,
    bald_scores,
    entropy_scores,
    get_strategy,
    margin_scores,
    random_scores,
    top_k,
)

__all__ = [
    "STRATEGIES",
    "ActiveLearner",
    "ActiveLearningConfig",
    "Classifier",
    "LabelPools",
    "PretrainingAutoencoder",
    "RoundSettings",
    "Strategy",
    "StrategyComparison",
    "bald_scores",
    "check_active_config",
    "check_schedule",
    "class_probabilities",
    "dropout_on",
    "entropy_scores",
    "get_strategy",
    "labels_to_reach",
    "margin_scores",
    "plot_learning_curves",
    "pretrain_encoder",
    "random_scores",
    "score_pool",
    "top_k",
    "train_classifier",
]
