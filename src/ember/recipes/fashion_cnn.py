"""``fashion-cnn`` (and ``mnist-cnn``): the seed's CNN case study, adapted to 28x28x1 images.

Three 3x3 convolutions (32, 64, 64 filters) with 2x2 max pooling between them, then Dense 64
and a 10-way softmax: the Keras CIFAR-10 tutorial's network, fed grey 28x28 images. The
convolutions pad their input ("same") so the smaller images still leave a 7x7 map for the
classifier. Adam with a cosine-decayed learning rate; dropout before the classifier and, on
Fashion-MNIST, random horizontal flips (a Keras-style preprocessing layer, active in training only)
keep the longer run from over-fitting. Digits are not mirror images of each other, so
``mnist-cnn`` does not flip.

    ember train fashion-cnn
    ember train mnist-cnn --epochs 5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ember import checks, layers, models, optimizers, schedules
from ember import data as augmentation
from ember.recipes.config import RecipeConfig, fraction
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images


@dataclass
class Config(RecipeConfig):
    dataset: str = "fashion_mnist"  # which dataset: fashion_mnist or mnist
    epochs: int = 15  # passes over the training images
    batch_size: int = 64  # images per training step
    filters: tuple[int, int, int] = (32, 64, 64)  # filters of the three 3x3 convolutions
    padding: Literal["same", "valid"] = "same"  # "same" keeps 28x28 → 14 → 7; "valid" shrinks it
    dense_units: int = 64  # width of the Dense layer before the classifier
    dropout: float = 0.3  # fraction of the Dense layer's inputs dropped while training
    flip: bool = True  # random horizontal flips while training
    crop_padding: int = 0  # random 28x28 crops of the image padded by this many pixels (0: off)
    learning_rate: float = 0.001  # Adam's initial step size; decays to 0 along a cosine
    validation_size: float = 0.1  # fraction of training images held out for validation curves
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)

    field_checks = {
        "filters": checks.positive_ints,
        "dense_units": checks.positive_int,
        "dropout": checks.rate,
        "crop_padding": checks.non_negative_int,
        "learning_rate": checks.positive_number,
        "validation_size": fraction,
    }


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    data = load_images(
        config.dataset,
        validation_size=config.validation_size,
        seed=config.seed,
        train_samples=config.train_samples,
    )
    first, second, third = config.filters
    # -- augmentation layers: random flips and shifts, in training only ------------------------
    height, width, _ = data.input_shape
    augment = [augmentation.RandomFlip("horizontal")] if config.flip else []
    if config.crop_padding:
        augment.append(augmentation.RandomCrop(height, width, padding=config.crop_padding))
    # -- the model: conv-pool-conv-pool-conv, then the dense classifier ------------------------
    model = models.Sequential(
        [
            *augment,
            layers.Conv2D(
                first,
                (3, 3),
                padding=config.padding,
                activation="relu",
                input_shape=data.input_shape,
            ),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(second, (3, 3), padding=config.padding, activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(third, (3, 3), padding=config.padding, activation="relu"),
            layers.Flatten(),
            layers.Dropout(config.dropout),
            layers.Dense(config.dense_units, activation="relu"),
            layers.Dense(len(data.class_names), activation="softmax"),
        ]
    )
    # -- training: Adam, cosine decay over the whole run ----------------------------------------
    model.compile(
        optimizer=optimizers.Adam(learning_rate=schedules.CosineDecay(config.learning_rate)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        device=config.device,
    )
    return Experiment(
        network=model,
        trainer=model.trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        outputs_probabilities=True,
    )
