"""Tiny stand-ins for Fashion-MNIST and MNIST, for the generative recipes' tests.

Class ``k``'s images hold a bright horizontal bar at rows ``2k + 4`` and ``2k + 5`` over faint
noise, so that a small classifier tells the classes apart within one epoch.
"""

from __future__ import annotations

import types

import numpy as np

from ember import datasets

CLASSES = 10


def draw(labels: np.ndarray, seed: int) -> np.ndarray:
    """uint8 images ``(N, 28, 28)`` of the given classes."""
    pixels = np.random.default_rng(seed).integers(0, 40, size=(len(labels), 28, 28))
    for row, label in enumerate(labels):
        pixels[row, 2 * label + 4 : 2 * label + 6, 3:25] = 220
    return pixels.astype(np.uint8)


def images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uint8 images ``(count, 28, 28)`` and their labels, every class equally often."""
    labels = np.arange(count) % CLASSES
    np.random.default_rng(seed).shuffle(labels)
    return draw(labels, seed + 100), labels.astype(np.uint8)


def install(monkeypatch, tmp_path, train: int = 200, test: int = 100) -> None:
    """Replace both datasets with tiny fakes and send the classifier cache into ``tmp_path``."""
    data = (images(train, 0), images(test, 1))
    fake = types.SimpleNamespace(
        load_data=lambda: data, class_names=[f"class {k}" for k in range(CLASSES)]
    )
    monkeypatch.setitem(datasets.DATASETS, "fashion_mnist", fake)
    monkeypatch.setitem(datasets.DATASETS, "mnist", fake)
    # data_home() follows EMBER_DATA: the domain classifier is cached in tmp_path/classifiers.
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "data"))
