"""``transfer-in-domain``: learn five new classes from few labels, with what five others taught.

Fashion-MNIST has ten classes. A zoo ResNet (:class:`~ember.zoo.resnet.SmallResNet`, the
``fashion-resnet`` network) is first pretrained on classes 0–4 (T-shirt, trouser, pullover,
dress, coat: all 30,000 of their training images). Then it learns classes 5–9 (sandal, shirt,
sneaker, bag, ankle boot) from only ``labels_per_class`` labelled images each, one of three ways:

- ``features`` (feature extraction): the pretrained network is frozen, batch norm included (it
  runs on its running statistics, Keras' rule); only a new head learns.
- ``fine_tune``: the whole pretrained network learns, with a new head, discriminative learning
  rates (the head at ``learning_rate``, the stem at ``learning_rate / lr_ratio``, geometric in
  between: fastai's ``slice``).
- ``scratch``: the same network, randomly initialised, learns everything from the few labels.

It is evaluated on the 5,000 test images of classes 5–9.

    ember train transfer-in-domain                                  # fine-tuning, 100 labels
    ember train transfer-in-domain --set method=scratch --set labels_per_class=300
    python benchmarks/transfer_in_domain.py                         # the study, 3 seeds

Pretraining takes the run's first moments; ``pretrained-backbone.safetensors`` in the run
folder holds its weights, and ``--set backbone=PATH`` starts another run from them (the study
pretrains once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from ember import checks, optimizers
from ember.callbacks import Callback
from ember.data import Augment, RandomFlip
from ember.errors import ConfigError
from ember.recipes.config import RecipeConfig, positive_int_or_none
from ember.recipes.experiment import DataSplits, Experiment
from ember.recipes.images import load_images
from ember.saving import load_weights, save_weights
from ember.schedules import CosineDecay, OneCycle
from ember.tasks import Supervised
from ember.train import Trainer
from ember.transfer import discriminative_learning_rates, freeze, replace_head
from ember.zoo.resnet import SmallResNet

PRETRAIN_CLASSES = range(0, 5)  # T-shirt/top, Trouser, Pullover, Dress, Coat
TARGET_CLASSES = range(5, 10)  # Sandal, Shirt, Sneaker, Bag, Ankle boot
BACKBONE_FILE = "pretrained-backbone.safetensors"
PRETRAIN_BATCH = 256  # images per pretraining step, as fashion-resnet


@dataclass
class Config(RecipeConfig):
    method: Literal["fine_tune", "features", "scratch"] = "fine_tune"  # how classes 5-9 are learnt
    labels_per_class: int = 100  # labelled training images of each of classes 5-9
    epochs: int = 30  # passes over those labelled images
    batch_size: int = 50  # images per training step
    learning_rate: float = 0.002  # Adam's peak step size (the head's, with fine_tune)
    lr_ratio: float = 10.0  # fine_tune: the stem learns this many times slower than the head
    backbone: str | None = None  # weights pretrained on classes 0-4 (None: pretrain in this run)
    pretrain_epochs: int = 4  # passes over the 30,000 images of classes 0-4
    pretrain_samples: int | None = None  # pretrain on this many of them (None: all 30,000)
    pretrain_learning_rate: float = 0.2  # one-cycle peak (SGD-Nesterov), as fashion-resnet
    widths: tuple[int, ...] = (24, 48, 96)  # channels of each residual stage

    field_checks = {
        "labels_per_class": checks.positive_int,
        "learning_rate": checks.positive_number,
        "lr_ratio": partial(checks.number_in, low=1, high=float("inf"), closed="[)"),
        "pretrain_epochs": checks.positive_int,
        "pretrain_samples": positive_int_or_none,
        "pretrain_learning_rate": checks.positive_number,
        "widths": partial(checks.positive_ints, allow_empty=False),
    }


def check_config(config: Config) -> None:
    """Settings that must fit together, checked before any data loads."""
    if config.pretrain_samples is not None:
        steps = -(-config.pretrain_samples // PRETRAIN_BATCH) * config.pretrain_epochs
        if steps < 2:  # the one-cycle schedule needs a rise and a fall
            raise ConfigError(
                f"pretraining on pretrain_samples={config.pretrain_samples} for "
                f"pretrain_epochs={config.pretrain_epochs} is one step of {PRETRAIN_BATCH} "
                f"images; its one-cycle schedule needs at least two. Fix: --set pretrain_epochs=2."
            )
    if config.backbone is not None and not Path(config.backbone).is_file():
        raise ConfigError(
            f"backbone={config.backbone!r} is not a file. Fix: pass the "
            f"{BACKBONE_FILE} of an earlier transfer-in-domain run, or --set backbone= to "
            f"pretrain in this run."
        )


def network(config: Config) -> SmallResNet:
    """The zoo ResNet of ``fashion-resnet`` with a five-class head."""
    return SmallResNet(
        num_classes=len(TARGET_CLASSES), widths=config.widths, stem_pool=True, head="flatten"
    )


def split_classes(data: DataSplits, config: Config) -> tuple[DataSplits, DataSplits]:
    """(classes 0-4: all their training images; classes 5-9: a few labels each and their test)."""
    x, y = data.train
    x_test, y_test = data.test
    source = y < len(PRETRAIN_CLASSES)
    x_source, y_source = x[source], y[source]
    if config.pretrain_samples is not None:
        x_source, y_source = (
            x_source[: config.pretrain_samples],
            y_source[: config.pretrain_samples],
        )
    pretrain = DataSplits((x_source, y_source), None, None, data.class_names[:5], data.input_shape)
    generator = torch.Generator().manual_seed(config.seed)
    picked = []
    for label in TARGET_CLASSES:
        indices = torch.nonzero(y == label).flatten()
        if config.labels_per_class > len(indices):
            raise ConfigError(
                f"expected labels_per_class ≤ {len(indices)} (the training images of a class), "
                f"received labels_per_class={config.labels_per_class}. Fix: --set "
                f"labels_per_class=100."
            )
        order = torch.randperm(len(indices), generator=generator)
        picked.append(indices[order[: config.labels_per_class]])
    chosen = torch.cat(picked)
    target = ~(y_test < len(PRETRAIN_CLASSES))
    offset = len(PRETRAIN_CLASSES)
    few = DataSplits(
        (x[chosen], y[chosen] - offset),
        None,
        (x_test[target], y_test[target] - offset),
        data.class_names[offset:],
        data.input_shape,
    )
    return pretrain, few


class Pretraining(Callback):
    """Before the first epoch: train a copy of the network on classes 0-4, load its weights
    (all but the head) into the run's network, and save them into the run folder.

    Weights are copied in place, so the run's optimizer keeps training the same tensors and a
    frozen network stays frozen. A resumed run (starting at a later epoch) skips it.
    """

    def __init__(self, net: nn.Module, images: DataSplits, config: Config, out: Path) -> None:
        self.net, self.images, self.config, self.out = net, images, config, out
        self.summary: dict[str, float] = {}

    def on_epoch_start(self, epoch: int, logs: Any = None) -> None:
        if epoch != 0:
            return
        config, start = self.config, time.perf_counter()
        source = network(config)
        task = Supervised(
            nn.Sequential(Augment(RandomFlip("horizontal")), source),
            loss=nn.CrossEntropyLoss(label_smoothing=0.1),
            metrics=["accuracy"],
            from_logits=True,
        )
        schedule = OneCycle(config.pretrain_learning_rate, pct_start=0.25, cycle_momentum=True)
        optimizer = optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=5e-4)
        history = Trainer(task, optimizer, device=self.trainer.device).fit(
            self.images.train, epochs=config.pretrain_epochs, batch_size=PRETRAIN_BATCH, verbose=0
        )
        copy_body(source, self.net)
        save_weights(source, self.out / BACKBONE_FILE)
        self.summary = {
            "pretrain_seconds": round(time.perf_counter() - start, 2),
            "pretrain_accuracy": history.history["accuracy"][-1],
        }

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == 0 and logs is not None:
            logs.update(self.summary)  # into the first epoch's line of metrics.jsonl


def copy_body(source: nn.Module, target: nn.Module) -> None:
    """Copy every weight but the head's from ``source`` into ``target``, in place."""
    with torch.no_grad():
        target_state = target.state_dict()
        for name, tensor in source.state_dict().items():
            if not name.startswith("head."):
                target_state[name].copy_(tensor)


def build(config: Config) -> Experiment:
    """Pretraining data and the few labels, the network, and how it learns them."""
    check_config(config)
    pretrain, data = split_classes(load_images("fashion_mnist", validation_size=0, seed=0), config)
    net = network(config)
    # -- what transfers: the pretrained body; a new head for the five new classes ----------------
    if config.method != "scratch" and config.backbone is not None:
        pretrained = network(config)
        load_weights(pretrained, config.backbone)
        copy_body(pretrained, net)
    replace_head(net, len(TARGET_CLASSES))  # a fresh head in every method
    if config.method == "features":
        # Stem and residual blocks; their batch norm runs on its running statistics (Keras' rule).
        freeze(net, up_to="blocks")
    elif config.method == "fine_tune":
        discriminative_learning_rates(net, ratio=config.lr_ratio)
    # -- the task: cross-entropy on the logits, random flips in training --------------------------
    task = Supervised(
        nn.Sequential(Augment(RandomFlip("horizontal")), net),
        loss=nn.CrossEntropyLoss(label_smoothing=0.1),
        metrics=["accuracy"],
        from_logits=True,
    )
    optimizer = optimizers.Adam(CosineDecay(config.learning_rate))
    trainer = Trainer(task, optimizer, epochs=config.epochs, device=config.device)
    pretraining = config.method != "scratch" and config.backbone is None
    return Experiment(
        network=net,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        run_callbacks=(lambda run: [Pretraining(net, pretrain, config, run)])
        if pretraining
        else None,
    )
