"""ember: deep learning you can run, fast, on real data — Keras-style, PyTorch underneath.

Example:
    >>> from ember import layers, models
    >>> model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(4,))])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

__version__ = "0.1.0"

from ember import (  # noqa: E402  (the version must exist before submodules import it)
    activations,
    callbacks,
    data,
    datasets,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    schedules,
)
from ember.errors import (  # noqa: E402
    ConfigError,
    DataError,
    DatasetError,
    EmberError,
    NotCompiledError,
    SaveError,
    ShapeError,
    WeightsMismatchError,
)
from ember.lr_finder import find_learning_rate  # noqa: E402
from ember.model import Model  # noqa: E402
from ember.saving import load_weights, save_weights  # noqa: E402
from ember.seeding import set_seed  # noqa: E402
from ember.sequential import Sequential  # noqa: E402
from ember.serialization import load_model  # noqa: E402
from ember.train import Callback, History, Supervised, Trainer  # noqa: E402

__all__ = [
    "Callback",
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
