"""Labelled snippets for the ``sentiment-*`` recipes: a stratified 80/10/10 split, then ids.

The split is made once from the run's seed, on the texts, so every sentiment recipe (and the
scikit-learn baselines in ``benchmarks/sentiment.py``) sees the same training, validation and
test snippets. The tokenizer is fitted on the training snippets only.

Example:
    >>> import numpy as np
    >>> texts = [f"snippet {i}" for i in range(20)]
    >>> split = split_texts(texts, np.array([0, 1] * 10), seed=0)
    >>> len(split.train[0]), len(split.val[0]), len(split.test[0])
    (16, 2, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ember import datasets
from ember.data.splits import train_test_split
from ember.errors import ConfigError
from ember.recipes.experiment import DataSplits

# name -> loader returning ember.datasets' LabelledTexts (texts, labels, class_names)
CORPORA: dict[str, Callable[[], object]] = {"rotten_tomatoes": lambda: datasets.rotten_tomatoes()}

TextPart = tuple[list[str], torch.Tensor]


@dataclass
class TextSplits:
    """Texts and integer labels, three ways."""

    train: TextPart
    val: TextPart
    test: TextPart
    class_names: list[str]

    def encode(self, encode: Callable[[list[str]], torch.Tensor]) -> DataSplits:
        """The same split as ids: ``encode(texts) -> (N, ...)`` applied to each part."""
        parts = [(encode(texts), labels) for texts, labels in (self.train, self.val, self.test)]
        texts = {"train": self.train[0], "val": self.val[0], "test": self.test[0]}
        shape = tuple(parts[0][0].shape[1:])
        return DataSplits(*parts, list(self.class_names), shape, texts=texts)


def split_texts(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    seed: int,
    validation_size: float = 0.1,
    test_size: float = 0.1,
    class_names: Sequence[str] = ("negative", "positive"),
) -> TextSplits:
    """Stratified train/validation/test parts (80/10/10 by default), shuffled by ``seed``."""
    for name, value in (("validation_size", validation_size), ("test_size", test_size)):
        if not 0 < value < 0.5:
            raise ConfigError(f"expected {name} between 0 and 0.5, received {value!r}")
    index = torch.arange(len(texts))
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    rest, test, y_rest, y_test = train_test_split(
        index, y, test_size=test_size, stratify=True, seed=seed
    )
    share = validation_size / (1 - test_size)  # of what is left after the test part
    train, val, y_train, y_val = train_test_split(
        rest, y_rest, test_size=share, stratify=True, seed=seed
    )

    def part(rows: torch.Tensor, part_labels: torch.Tensor) -> TextPart:
        return [texts[i] for i in rows.tolist()], part_labels

    return TextSplits(part(train, y_train), part(val, y_val), part(test, y_test), list(class_names))


def load_snippets(corpus: str, *, seed: int, train_samples: int | None = None) -> TextSplits:
    """The corpus' stratified 80/10/10 split; ``train_samples`` keeps that many training snippets
    (stratified; for quick tries and tests), leaving validation and test as they are."""
    if corpus not in CORPORA:
        raise ConfigError(
            f"unknown corpus {corpus!r}. Fix: choose one of {', '.join(sorted(CORPORA))}."
        )
    data = CORPORA[corpus]()
    split = split_texts(data.texts, data.labels, seed=seed, class_names=data.class_names)
    if train_samples is not None:
        texts, labels = split.train
        if not 0 < train_samples <= len(texts):
            raise ConfigError(
                f"expected train_samples in 1..{len(texts)}, received train_samples="
                f"{train_samples!r}"
            )
        if train_samples < len(texts):
            _, keep, _, kept_labels = train_test_split(
                torch.arange(len(texts)),
                labels,
                test_size=train_samples / len(texts),
                stratify=True,
                seed=seed,
            )
            split.train = ([texts[i] for i in keep.tolist()], kept_labels)
    return split
