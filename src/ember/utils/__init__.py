"""Keras' ``keras.utils``: labels to one-hot rows, padding sequences, seeding, ``PyDataset``,
``plot_model``.

Example:
    >>> from ember import utils
    >>> utils.pad_sequences([[1, 2], [3]], padding="post").tolist()
    [[1, 2], [3, 0]]
"""

from ember.data.py_dataset import PyDataset, Sequence
from ember.plots.model_graph import plot_model
from ember.utils.numerical import normalize, to_categorical
from ember.utils.random_seed import set_random_seed
from ember.utils.sequences import pad_sequences

__all__ = [
    "PyDataset",
    "Sequence",
    "normalize",
    "pad_sequences",
    "plot_model",
    "set_random_seed",
    "to_categorical",
]
