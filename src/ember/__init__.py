"""ember: deep learning you can run, fast, on real data — Keras-style, PyTorch underneath.

Example:
    >>> from ember import layers, models
    >>> model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(4,))])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from ember import (
    activations,
    callbacks,
    checks,
    data,
    datasets,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    schedules,
    tasks,
    train,
    zoo,
)
from ember.errors import (
    ConfigError,
    DataError,
    DatasetError,
    EmberError,
    NotCompiledError,
    SaveError,
    ShapeError,
    WeightsMismatchError,
)
from ember.models import Model, Sequential, load_model
from ember.models.lr_finder import find_learning_rate
from ember.saving import load_weights, save_weights
from ember.seeding import set_seed
from ember.tasks import (
    GAN,
    Autoencoder,
    ContrastiveDivergence,
    LanguageModel,
    PerceptronRule,
    Supervised,
    VariationalAutoencoder,
)
from ember.train import Callback, History, Objective, Task, Trainer
from ember.version import __version__

__all__ = [
    "GAN",
    "Autoencoder",
    "Callback",
    "ContrastiveDivergence",
    "LanguageModel",
    "Objective",
    "PerceptronRule",
    "Task",
    "VariationalAutoencoder",
    "__version__",
    "checks",
    "tasks",
    "train",
    "zoo",
    "ConfigError",
    "DataError",
    "DatasetError",
    "EmberError",
    "History",
    "Model",
    "NotCompiledError",
    "SaveError",
    "Sequential",
    "ShapeError",
    "Supervised",
    "Trainer",
    "WeightsMismatchError",
    "activations",
    "callbacks",
    "data",
    "datasets",
    "find_learning_rate",
    "layers",
    "load_model",
    "load_weights",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "save_weights",
    "schedules",
    "set_seed",
]
