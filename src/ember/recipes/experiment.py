"""What a run trains: an :class:`Experiment` (data, network, engine), and its data split three ways.

The run machinery (:mod:`ember.runs`) trains, checkpoints, evaluates and reports any Experiment;
a recipe (:mod:`ember.recipes`) only says what to train and how, by building one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember.data.batches import TensorBatches
from ember.data.test_time import float32_softmax
from ember.errors import ConfigError
from ember.train import Trainer

Split = tuple[torch.Tensor, torch.Tensor]


@dataclass
class DataSplits:
    """Inputs and targets split three ways: images ``(N, H, W, C)`` in [0, 1] with integer
    labels (:func:`ember.recipes.images.load_images`), or windows of token ids with the next ids
    (:func:`ember.recipes.text_data.load_char_corpus`)."""

    train: Split
    val: Split | None
    test: Split | None  # None: the run ends with its validation numbers, shows no test column
    class_names: list[str]  # for text: the vocabulary
    input_shape: tuple[int, ...]  # per-sample: (H, W, C) or (T,)
    texts: dict[str, list[str]] | None = None  # split -> the raw texts, for labelled snippets

    def split(self, name: str) -> Split:
        """``"train"``, ``"val"`` or ``"test"``."""
        parts = {"train": self.train, "val": self.val, "test": self.test}
        if name not in parts:
            raise ConfigError(f"expected a split in train, val, test, received split={name!r}")
        if parts[name] is None:
            why, other = (
                ("validation_size=0", "test") if name == "val" else ("none held out", "val")
            )
            raise ConfigError(f"this run has no {name} split ({why}). Fix: use --split {other}.")
        return parts[name]


@dataclass
class Experiment:
    """Everything a run needs: the network, the engine that trains it, the data.

    ``predict`` maps a batch of inputs to class probabilities in eval mode (recipes may average
    over flips there); by default it is ``softmax(network(x))``, or ``network(x)`` when
    ``outputs_probabilities``.

    ``evaluation`` says how a split is scored and which checkpoint is ``best``:
    ``"classification"`` (accuracy, precision, recall, F1, ROC-AUC, confusion matrix; best by
    accuracy) or ``"language_model"`` (the task's loss in nats and bits per token; best by loss).
    ``tokenizer`` is saved with a text run, so that its network can be fed text later.

    A classification run's evaluation also draws its penultimate features in 2-D, one
    ``feature-map-<method>.png`` per method in ``feature_maps`` (the report shows them).

    ``callbacks`` are handed to ``trainer.fit`` by the run, before the run's own (metrics log,
    checkpoints, TensorBoard): what a recipe adds to training (greedy pretraining, say).
    ``run_callbacks(run_dir)`` makes those that write into the run folder (a GAN's sample
    grids), and ``run_dir`` tells the evaluator where the run is.

    ``evaluator``, when given, replaces both: ``evaluator(experiment, split, out_dir)`` returns
    the split's metrics (floats) and may write PNG plots into ``out_dir``, which the report shows
    (a forecast against the truth, say). ``monitor`` then names the logged value for ``best``
    (``"val_loss"`` unless set).
    """

    network: nn.Module
    trainer: Trainer
    data: Any
    batch_size: int
    seed: int
    predict: Callable[[torch.Tensor], torch.Tensor] | None = None
    outputs_probabilities: bool = False
    generator: torch.Generator = field(default_factory=torch.Generator)
    evaluation: str = "classification"
    tokenizer: Any = None
    evaluator: Callable[[Any, str, Path], dict[str, float]] | None = None
    best_by: str | None = None  # the logged metric (without val_) that picks the best checkpoint
    feature_maps: tuple[str, ...] = ("pca",)  # classification: the test maps ("pca", "tsne")
    callbacks: list[Any] = field(default_factory=list)  # the run's fit passes them to the engine
    # Callbacks that write into the run folder, made when the run knows it: run_callbacks(run_dir)
    run_callbacks: Callable[[Path], list[Any]] | None = None
    run_dir: Path | None = None  # the run folder, told by the run before training; None outside
    verbose: int = 1  # how much the recipe's own steps print (told by the run, like run_dir)

    @property
    def monitor(self) -> str:
        """The logged value that picks the ``best`` checkpoint."""
        name = self.best_by
        if name is None:
            name = "accuracy" if self.evaluation == "classification" else "loss"
        return f"val_{name}" if self.data.val is not None else name

    def __post_init__(self) -> None:
        if self.evaluation not in ("classification", "language_model", "custom"):
            raise ConfigError(
                f"expected evaluation='classification', 'language_model' or 'custom', "
                f"received evaluation={self.evaluation!r}"
            )
        if (self.evaluation == "custom") != (self.evaluator is not None):
            raise ConfigError(
                "evaluation='custom' and an evaluator go together. Fix: pass both, or neither."
            )
        # The data order has its own generator (seeded from the run's seed) and is checkpointed.
        self.generator.manual_seed(self.seed)
        if self.predict is None:
            network = self.network
            self.predict = network if self.outputs_probabilities else _softmax_of(network)

    def batches(self, split: str, *, shuffle: bool = False) -> TensorBatches:
        """Batches of a split on the trainer's device (shuffled by the run's own generator)."""
        x, y = self.data.split(split)
        device = self.trainer.device
        return TensorBatches(
            (x.to(device), y.to(device)),
            self.batch_size,
            shuffle=shuffle,
            generator=self.generator if shuffle else None,
        )

    def probabilities(self, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Class probabilities for ``x`` (on the CPU): the engine's ``predict`` in eval mode,
        running this experiment's ``predict`` (softmax, or a test-time-augmented average)."""
        return self.trainer.predict(x, batch_size=batch_size, using=self.predict).cpu()


def _softmax_of(network: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def predict(x: torch.Tensor) -> torch.Tensor:
        return float32_softmax(network(x))

    return predict
