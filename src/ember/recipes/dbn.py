"""``dbn``: a deep belief network learns MNIST from 1,000 labels, with 60,000 unlabelled images.

Greedy layer-wise pretraining (Hinton, Osindero and Teh 2006): a Bernoulli RBM learns features
of the training images by contrastive divergence (CD-1) without reading a label; a second RBM
learns features of the first one's features. The stack then initialises a sigmoid MLP
(784-500-500, :meth:`~ember.models.dbn.DeepBeliefNetwork.to_classifier`) with a fresh softmax
head, and backpropagation fine-tunes it on only ``labelled`` training images (1,000, drawn
stratified by class with the run's seed).

``--set pretrain=false`` is the baseline: the same MLP from its default initialisation, trained
on the same 1,000 images with the same optimizer and epochs. The test evaluation is the usual
classifier one (accuracy, F1, confusion matrix, ...), so the two runs compare directly
(``benchmarks/generative.py`` does it for three seeds).

Pretraining happens inside the run, just before the first fine-tuning epoch: its time counts
(``pretrain_seconds``), and the first epoch's line of ``metrics.jsonl`` also holds each RBM's
last reconstruction error (``rbm1_reconstruction``, ...). A run resumed after that epoch starts
from its checkpoint and does not pretrain again.

    ember train dbn
    ember train dbn --set pretrain=false
    ember train dbn --set labelled=100 --set seed=1
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from ember import checks, layers, models, optimizers
from ember.data.splits import train_test_split
from ember.errors import ConfigError
from ember.models.dbn import DeepBeliefNetwork
from ember.recipes.config import RecipeConfig, check_fields, positive_int_or_none
from ember.recipes.experiment import DataSplits, Experiment
from ember.recipes.images import load_images
from ember.train.callback import Callback


@dataclass
class Config(RecipeConfig):
    dataset: str = "mnist"  # mnist or fashion_mnist
    labelled: int = 1000  # labelled training images for fine-tuning (stratified by class)
    unlabelled: int | None = None  # training images for pretraining, labels unread (None: all)
    pretrain: bool = True  # greedy RBM pretraining first; false: the same MLP from scratch
    hidden: tuple[int, ...] = (500, 500)  # hidden units of each RBM = each sigmoid layer
    pretrain_epochs: int = 10  # CD-1 passes over the unlabelled images, per RBM
    pretrain_batch_size: int = 64  # images per CD-1 step
    pretrain_learning_rate: float = 0.1  # SGD step size of CD-1 (momentum 0.5, Hinton's guide)
    epochs: int = 30  # fine-tuning passes over the labelled images
    batch_size: int = 32  # labelled images per fine-tuning step
    learning_rate: float = 0.1  # fine-tuning SGD step size (momentum 0.9), pretrained or not

    field_checks = {
        "labelled": checks.positive_int,
        "unlabelled": positive_int_or_none,
        "pretrain_epochs": checks.positive_int,
        "pretrain_batch_size": checks.positive_int,
    }


def check_config(config: Config) -> None:
    """Raise a :class:`ConfigError` naming the field and the fix, before any data is loaded.

    Example:
        >>> check_config(Config(labelled=0))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a positive integer, received labelled=0. Fix: ...
    """
    check_fields(config)
    hidden = config.hidden
    if not hidden or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in hidden):
        raise ConfigError(
            f"expected hidden to be positive integers, one per RBM, received hidden={hidden!r}. "
            f"Fix: --set hidden=500,500."
        )
    for name in ("pretrain_learning_rate", "learning_rate"):
        value = getattr(config, name)
        if not (checks.is_number(value) and value > 0):
            raise ConfigError(
                f"expected a positive {name}, received {value!r}. "
                f"Fix: --set {name}={getattr(Config(), name)}"
            )


def split_labelled(data: DataSplits, config: Config) -> tuple[DataSplits, torch.Tensor]:
    """The ``labelled`` stratified training images with their labels, and the pretraining images.

    The pretraining images are all training images (or ``unlabelled`` of them, drawn with the
    seed); their labels are never used, so the labelled ones may be among them.
    """
    x, y = data.train
    if not config.labelled < len(x):
        raise ConfigError(
            f"expected labelled < {len(x)} (the training images), received "
            f"labelled={config.labelled}. Fix: --set labelled=1000."
        )
    _, x_labelled, _, y_labelled = train_test_split(
        x, y, test_size=config.labelled / len(x), stratify=True, seed=config.seed
    )
    unlabelled = x
    if config.unlabelled is not None and config.unlabelled < len(x):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(config.seed))
        unlabelled = x[order[: config.unlabelled]]
    labelled = DataSplits(
        (x_labelled, y_labelled), None, data.test, data.class_names, data.input_shape
    )
    return labelled, unlabelled


class GreedyPretraining(Callback):
    """Before the first epoch: pretrain the DBN on unlabelled images, load it into the network.

    The network must have :meth:`DeepBeliefNetwork.to_classifier`'s layers; all of its weights
    are replaced, the head by a freshly initialised one. A fit that starts at a later epoch (a
    resumed run) skips it: its checkpoint holds the fine-tuned weights.
    """

    def __init__(self, dbn: DeepBeliefNetwork, images: torch.Tensor, config: Config) -> None:
        self.dbn, self.images, self.config = dbn, images, config
        self.summary: dict[str, float] = {}

    def on_epoch_start(self, epoch: int, logs: Any = None) -> None:
        if epoch != 0:
            return
        config, start = self.config, time.perf_counter()
        histories = self.dbn.pretrain(
            self.images,
            epochs=config.pretrain_epochs,
            batch_size=config.pretrain_batch_size,
            learning_rate=config.pretrain_learning_rate,
            verbose=0,
            device=self.trainer.device,
        )
        head = self.model.layers[-1]
        pretrained = self.dbn.to_classifier(head.units, input_shape=self.images.shape[1:])
        self.model.load_state_dict(pretrained.state_dict())  # in place: the optimizer keeps them
        self.summary = {"pretrain_seconds": round(time.perf_counter() - start, 4)}
        for index, history in enumerate(histories, start=1):
            self.summary[f"rbm{index}_reconstruction"] = history.history["reconstruction"][-1]

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == 0 and logs is not None:
            logs.update(self.summary)  # into the first epoch's line of metrics.jsonl


def build(config: Config) -> Experiment:
    """The labelled and unlabelled images, the MLP and (with ``pretrain``) its DBN pretraining."""
    check_config(config)
    data, unlabelled = split_labelled(
        load_images(config.dataset, validation_size=0.0, seed=config.seed), config
    )
    # -- the MLP: to_classifier's layers (Flatten, sigmoid Dense per RBM, softmax head) --------
    model = models.Sequential(
        [
            layers.Flatten(input_shape=data.input_shape),
            *[layers.Dense(units, activation="sigmoid") for units in config.hidden],
            layers.Dense(len(data.class_names), activation="softmax"),
        ],
        name="dbn_classifier",
    )
    # -- fine-tuning: SGD with momentum, the same for the pretrained and the scratch MLP -------
    model.compile(
        optimizer=optimizers.SGD(config.learning_rate, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device=config.device,
    )
    callbacks = []
    if config.pretrain:
        visible = int(torch.Size(data.input_shape).numel())
        dbn = DeepBeliefNetwork(visible, config.hidden)
        callbacks.append(GreedyPretraining(dbn, unlabelled, config))
    return Experiment(
        network=model,
        trainer=model.trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        outputs_probabilities=True,
        callbacks=callbacks,
    )
