"""``fashion-mlp`` (and ``mnist-mlp``): the first seed program, as a recipe.

Flatten, Dense 128 ReLU, Dropout 0.2, Dense 10 softmax, trained with Adam on sparse categorical
cross-entropy: the Keras beginner program, unchanged but for a longer run whose learning rate
decays to zero along a cosine, which is what takes it from ~88% to ~89% on Fashion-MNIST.

    ember train fashion-mlp
    ember train fashion-mlp --set hidden_units=256 --epochs 5
"""

from __future__ import annotations

from dataclasses import dataclass

from ember import checks, layers, models, optimizers, schedules
from ember.recipes.config import RecipeConfig, fraction
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images


@dataclass
class Config(RecipeConfig):
    dataset: str = "fashion_mnist"  # which dataset: fashion_mnist or mnist
    epochs: int = 30  # passes over the training images
    batch_size: int = 32  # images per training step
    hidden_units: int = 128  # width of the hidden Dense layer
    dropout: float = 0.2  # fraction of hidden units dropped while training
    learning_rate: float = 0.001  # Adam's initial step size; decays to 0 along a cosine
    validation_size: float = 0.1  # fraction of training images held out for validation curves
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)

    field_checks = {
        "hidden_units": checks.positive_int,
        "dropout": checks.rate,
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
    # -- the model: the seed program's four layers --------------------------------------------
    model = models.Sequential(
        [
            layers.Flatten(input_shape=data.input_shape),
            layers.Dense(config.hidden_units, activation="relu"),
            layers.Dropout(config.dropout),
            layers.Dense(len(data.class_names), activation="softmax"),
        ]
    )
    # -- training: Adam, cosine decay over the whole run (decay_steps=None) ----------------------
    schedule = schedules.CosineDecay(config.learning_rate)
    model.compile(
        optimizer=optimizers.Adam(learning_rate=schedule),
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
        outputs_probabilities=True,  # the last layer is a softmax
    )
