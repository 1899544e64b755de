"""Real datasets in their real formats, Keras-style: ``datasets.mnist.load_data()``.

Each dataset module has ``load_data()``, ``class_names`` and a one-line ``DESCRIPTION``;
``DATASETS`` maps every dataset's name to its module. Files are looked for in ``$EMBER_DATA``, the
cache (``~/.cache/ember/datasets``) and ``/usr/share/datasets``, and downloaded when missing (see
:mod:`ember.datasets.cache`).

Text corpora and a time series are functions returning the raw data, found or fetched the same
way: ``moby_dick()``, ``jane_austen()`` (or ``jane_austen_books()``), ``rotten_tomatoes()`` and
``sunspots()``; tables (pandas DataFrames) by ``modeldata(name)``.

Example:
    >>> from ember import datasets
    >>> (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    >>> x_train.shape, y_train.shape
    ((60000, 28, 28), (60000,))
    >>> sorted(datasets.DATASETS)
    ['cifar10', 'fashion_mnist', 'mnist']
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ember.datasets import cifar10, fashion_mnist, mnist
from ember.datasets.cache import FileInfo, data_home, find_or_download
from ember.datasets.idx import read_idx
from ember.datasets.jane_austen import jane_austen, jane_austen_books
from ember.datasets.moby_dick import moby_dick
from ember.datasets.modeldata import modeldata
from ember.datasets.rotten_tomatoes import LabelledTexts, rotten_tomatoes
from ember.datasets.sunspots import sunspots

# name -> module with load_data(), class_names and DESCRIPTION (for `ember list`).
DATASETS: dict[str, ModuleType] = {
    "mnist": mnist,
    "fashion_mnist": fashion_mnist,
    "cifar10": cifar10,
}

# The text corpora and the series, returned by functions of these names (for `ember list`).
CORPORA: dict[str, str] = {
    name: importlib.import_module(f"ember.datasets.{name}").DESCRIPTION
    for name in ("moby_dick", "jane_austen", "rotten_tomatoes", "sunspots", "modeldata")
}

__all__ = [
    "CORPORA",
    "DATASETS",
    "FileInfo",
    "LabelledTexts",
    "cifar10",
    "data_home",
    "fashion_mnist",
    "find_or_download",
    "jane_austen",
    "jane_austen_books",
    "mnist",
    "moby_dick",
    "modeldata",
    "read_idx",
    "rotten_tomatoes",
    "sunspots",
]
