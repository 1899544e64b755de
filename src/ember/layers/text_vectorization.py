"""Keras' ``TextVectorization``: texts -> standardised tokens -> vocabulary indices or encodings.

It takes Python strings, not tensors, and returns torch tensors, so it belongs in the data
pipeline before ``fit``, where Keras' guide maps it over a ``tf.data`` dataset:

    vectorize = TextVectorization(max_tokens=20_000, output_sequence_length=200)
    vectorize.adapt(train_texts)                 # a list of strings
    model.fit(vectorize(train_texts), y_train)   # (N, 200) int64 token ids

The standardisation, splitting, n-grams and vocabulary order are Keras' (its ``lower`` touches
ASCII letters only, punctuation is ASCII punctuation, whitespace is ASCII whitespace).

Example:
    >>> vectorize = TextVectorization(output_sequence_length=4)
    >>> vectorize.adapt(["The cat sat.", "The dog sat!"])
    >>> vectorize.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
    >>> vectorize(["the bird sat"]).tolist()
    [[2, 1, 3, 0]]
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.layers.base import Layer
from ember.layers.lookup import StringLookup
from ember.layers.registry import LAYERS

# Keras' pattern (`,-\.` is the range from "," to ".").
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_WORD = re.compile(r"[^ \t\n\v\f\r]+")  # TF splits on ASCII whitespace only
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


@LAYERS.register()
class TextVectorization(Layer):
    """Turn texts into token indices or per-text encodings, as Keras' ``TextVectorization``.

    ``standardize`` and ``split`` are Keras' names, None, or callables: ``standardize`` gets a
    numpy array of the batch's strings (as in Keras) and returns strings; ``split`` gets one
    standardised string and returns its tokens. ``ngrams=2`` adds bigrams to the words (a tuple
    picks the widths). ``output_mode="int"`` returns ``(N, length)`` int64 ids padded with 0 to
    ``output_sequence_length`` (or the longest text); ``"multi_hot"``, ``"count"`` and
    ``"tf_idf"`` return ``(N, vocabulary_size)`` float32.

    Example:
        >>> counts = TextVectorization(output_mode="count", vocabulary=["foo", "bar", "baz"])
        >>> counts(["foo bar", "baz foo foo"]).tolist()
        [[0.0, 1.0, 1.0, 0.0], [0.0, 2.0, 0.0, 1.0]]
    """

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable | None = "lower_and_strip_punctuation",
        split: str | Callable | None = "whitespace",
        ngrams: int | tuple[int, ...] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Iterable[str] | None = None,
        idf_weights: Iterable[float] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        if not (standardize is None or callable(standardize) or standardize in _STANDARDIZE):
            raise ConfigError(
                f"expected standardize in {_STANDARDIZE}, None or a callable, received "
                f"standardize={standardize!r}"
            )
        if not (split is None or callable(split) or split in _SPLIT):
            raise ConfigError(
                f"expected split in {_SPLIT}, None or a callable, received split={split!r}"
            )
        self.standardize, self.split = standardize, split
        self.ngrams = _ngram_widths(ngrams)
        output_mode = checks.one_of(
            "output_mode", output_mode, ("int", "multi_hot", "count", "tf_idf")
        )
        if output_mode != "int" and output_sequence_length is not None:
            raise ConfigError(
                f"output_sequence_length pads token ids and needs output_mode='int', received "
                f"output_mode={output_mode!r}. Fix: drop output_sequence_length."
            )
        self.output_mode = output_mode
        self.output_sequence_length = checks.positive_int(
            "output_sequence_length", output_sequence_length, allow_none=True
        )
        # Padding is the mask token "": index 0 in "int" mode, dropped from the encodings.
        self.lookup = StringLookup(
            max_tokens=max_tokens,
            mask_token="",
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
        )
        self.built = True

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: a list (or numpy array) of texts, or an iterable
        of such batches (at most ``steps`` of them). Each text is one document for ``tf_idf``."""
        if isinstance(data, (str, list, tuple, np.ndarray)):
            batches: Iterable[Any] = [data]
        else:
            batches = data if steps is None else _first(data, steps)
        self.lookup.learn_vocabulary(
            document for batch in batches for document in self._documents(batch)
        )

    def forward(self, texts: Any) -> torch.Tensor:
        if isinstance(texts, str):
            return self([texts])[0]
        documents = self._documents(texts)
        length = self.output_sequence_length
        if length is None:
            length = max((len(document) for document in documents), default=0)
        # Pad with the mask token "" (and cut to the length): 0 in "int" mode, else dropped.
        padded = np.full((len(documents), length), "", dtype=object)
        for row, document in enumerate(documents):
            document = document[:length]
            padded[row, : len(document)] = document
        return self.lookup(padded)

    def _documents(self, texts: Any) -> list[list[str]]:
        """The token lists of a batch of texts."""
        texts = _texts(texts)
        if callable(self.standardize):
            texts = [str(text) for text in np.asarray(self.standardize(np.array(texts, dtype=str)))]
        else:
            if self.standardize in ("lower", "lower_and_strip_punctuation"):
                texts = [text.translate(_ASCII_LOWER) for text in texts]
            if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
                texts = [_PUNCTUATION.sub("", text) for text in texts]
        return [_with_ngrams(self._split(text), self.ngrams) for text in texts]

    def _split(self, text: str) -> list[str]:
        if self.split is None:
            return [text]
        if self.split == "character":
            return list(text)
        if self.split == "whitespace":
            return _WORD.findall(text)
        return [str(token) for token in self.split(text)]

    # -- the vocabulary, as on Keras' layer ------------------------------------------------------
    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The tokens in index order (with the padding "" and "[UNK]" unless told otherwise)."""
        return self.lookup.get_vocabulary(include_special_tokens)

    def set_vocabulary(self, vocabulary: Iterable[str], idf_weights: Any = None) -> None:
        """Use ``vocabulary`` (and ``idf_weights`` in ``"tf_idf"`` mode) instead of adapting."""
        self.lookup.set_vocabulary(vocabulary, idf_weights)

    def vocabulary_size(self) -> int:
        """The number of indices, padding and OOV included."""
        return self.lookup.vocabulary_size()

    def get_config(self) -> dict[str, Any]:
        lookup = self.lookup.get_config()
        return {
            **super().get_config(),
            "vocabulary": lookup["vocabulary"],
            "idf_weights": lookup["idf_weights"],
        }

    def extra_repr(self) -> str:
        return f"vocabulary_size={self.vocabulary_size()}, output_mode={self.output_mode!r}"


def _ngram_widths(ngrams: Any) -> tuple[int, ...] | None:
    if ngrams is None:
        return None
    if checks.is_int(ngrams) and ngrams >= 1:
        return tuple(range(1, int(ngrams) + 1))
    if (
        isinstance(ngrams, (tuple, list))
        and ngrams
        and all(checks.is_int(n) and n >= 1 for n in ngrams)
    ):
        return tuple(int(n) for n in ngrams)
    raise ConfigError(
        f"expected ngrams as None, a positive integer or a tuple of them, received "
        f"ngrams={ngrams!r}"
    )


def _with_ngrams(tokens: list[str], widths: tuple[int, ...] | None) -> list[str]:
    """``tokens``' n-grams of each width in turn, joined by spaces (TF's ``strings.ngrams``)."""
    if widths is None:
        return tokens
    return [
        " ".join(tokens[start : start + width])
        for width in widths
        for start in range(len(tokens) - width + 1)
    ]


def _texts(texts: Any) -> list[str]:
    """A batch of texts: a list, or a numpy array of shape (N,) or (N, 1), of strings."""
    if isinstance(texts, torch.Tensor):
        raise DataError(
            "TextVectorization takes strings (a list or a numpy array of str), received a "
            "tensor. Fix: pass the texts themselves."
        )
    array = np.array(texts, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(
            f"TextVectorization takes a batch of texts shaped (N,) or (N, 1), received shape "
            f"{array.shape}. Fix: pass a flat list of strings."
        )
    flat = [t.decode("utf-8") if isinstance(t, bytes) else t for t in array.tolist()]
    wrong = next((t for t in flat if not isinstance(t, str)), None)
    if wrong is not None:
        raise DataError(
            f"TextVectorization takes strings, received an element {wrong!r} of type "
            f"{type(wrong).__name__}. Fix: pass a list of str."
        )
    return flat


def _first(batches: Iterable[Any], steps: int) -> Iterator[Any]:
    for step, batch in enumerate(batches):
        if step >= steps:
            return
        yield batch
