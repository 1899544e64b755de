"""Data helpers shared by the examples in examples/keras/, for data Keras cannot load here.

An example imports a helper inside its import block (``from _data import ...``); that line
imports no ember module, so ``run_with_keras.py`` leaves it as it is and the Keras run of the
example gets the same data as the ember run. MNIST, Fashion-MNIST and CIFAR-10 need no helper:
examples load them with ``keras.datasets.<name>.load_data()``, which ``run_with_keras.py`` points
at ember's local files under Keras.

This module imports nothing from ember but ``ember.datasets`` (and neither keras), so that it
means the same under both frameworks.
"""

from __future__ import annotations

import collections
import re

import numpy as np

from ember import datasets

# -- text and series helpers for the text/sequence examples --------------------------------------
# keras.datasets has no rotten tomatoes or sunspots: these stand in for `keras.datasets.imdb` and
# the guides' CSV downloads, and are imported inside the examples' import blocks so the same line
# runs under Keras.

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')  # Keras' default strip


def _shuffled_reviews(seed: int) -> tuple[list[str], np.ndarray]:
    """The rotten-tomatoes snippets and labels in one fixed shuffled order (the file groups them
    by film, so a split of it in file order would be a split by film)."""
    data = datasets.rotten_tomatoes()
    order = np.random.default_rng(seed).permutation(len(data.texts))
    return [data.texts[i] for i in order], data.labels[order]


def rotten_tomatoes_texts(
    validation_split: float = 0.2, test_split: float = 0.2, seed: int = 1337
) -> tuple[tuple[list[str], np.ndarray], ...]:
    """Raw review snippets split three ways, as the guide's ``text_dataset_from_directory`` calls.

    Returns ``(train_texts, train_labels), (val_texts, val_labels), (test_texts, test_labels)``:
    ``test_split`` of the reviews is the test set, ``validation_split`` of the rest validation.

    Example:
        >>> (train, y_train), (val, y_val), (test, y_test) = rotten_tomatoes_texts()  # doctest: +SKIP
        >>> len(train), len(val), len(test)  # doctest: +SKIP
        (8198, 2049, 2561)
    """
    texts, labels = _shuffled_reviews(seed)
    n_test = int(len(texts) * test_split)
    n_val = int((len(texts) - n_test) * validation_split)
    ends = np.cumsum([len(texts) - n_test - n_val, n_val])
    return (
        (texts[: ends[0]], labels[: ends[0]]),
        (texts[ends[0] : ends[1]], labels[ends[0] : ends[1]]),
        (texts[ends[1] :], labels[ends[1] :]),
    )


def rotten_tomatoes_sequences(
    num_words: int | None = None, test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[list[list[int]], np.ndarray], tuple[list[list[int]], np.ndarray]]:
    """The reviews as word-index lists, the way ``keras.datasets.imdb.load_data`` gives IMDB.

    Words are lower-cased and stripped of punctuation, ranked by frequency in the training
    split, and coded as in IMDB: 1 starts a review, 2 is out-of-vocabulary (also every word of
    rank ``num_words`` or more), and the most frequent word is 4.

    Example:
        >>> (x_train, y_train), (x_val, y_val) = rotten_tomatoes_sequences(20000)  # doctest: +SKIP
        >>> len(x_train), len(x_val), x_train[0][0]  # doctest: +SKIP
        (10247, 2561, 1)
    """
    texts, labels = _shuffled_reviews(seed)
    words = [_PUNCTUATION.sub("", text.lower()).split() for text in texts]
    split_at = len(texts) - int(len(texts) * test_split)
    counts = collections.Counter(word for review in words[:split_at] for word in review)
    index = {word: rank + 4 for rank, (word, _) in enumerate(counts.most_common())}
    limit = num_words or len(index) + 4
    sequences = [[1] + [_in_range(index.get(w, 2), limit) for w in review] for review in words]
    return (sequences[:split_at], labels[:split_at]), (sequences[split_at:], labels[split_at:])


def _in_range(word_index: int, limit: int) -> int:
    return word_index if word_index < limit else 2


def sunspots() -> tuple[np.ndarray, np.ndarray]:
    """The yearly sunspot numbers 1700-2008: ``(years, values)``, as ``ember.datasets.sunspots``.

    Example:
        >>> years, values = sunspots()  # doctest: +SKIP
        >>> len(years)  # doctest: +SKIP
        309
    """
    return datasets.sunspots()
