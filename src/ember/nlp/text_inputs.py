"""Text in, ids out: how a model with a tokenizer turns strings into its input batch.

``model.set_tokenizer(tokenizer)`` lets ``model.predict(["a fine film", ...])`` take strings. The
tokenizer is checked against the model once, when attached: every id it can produce must have a
row in the model's first embedding table, and texts are cut to the model's context (the longest
sequence its position embeddings hold) only when ``truncation=True`` was asked for.

Example:
    >>> from ember import layers, models
    >>> from ember.nlp import WordTokenizer
    >>> tokenizer = WordTokenizer.from_texts(["a fine film", "a dull film"])
    >>> model = models.Sequential([layers.Embedding(tokenizer.vocabulary_size, 4, mask_zero=True),
    ...                            layers.GlobalAveragePooling1D(), layers.Dense(2)])
    >>> model.set_tokenizer(tokenizer)
    >>> model.predict(["a fine film", "dull"]).shape
    (2, 2)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, DataError, SaveError
from ember.nlp.bpe_tokenizer import BPETokenizer
from ember.nlp.char_tokenizer import CharTokenizer
from ember.nlp.word_tokenizer import WordTokenizer


@dataclass(frozen=True)
class TextEncoding:
    """A tokenizer and how to batch its ids for one model.

    ``length``: pad (and, with ``truncation``, cut) every batch to this many ids; None pads to the
    longest text. ``context``: the most ids the model reads (None: no limit).
    """

    tokenizer: Any
    length: int | None = None
    truncation: bool = False
    context: int | None = None
    truncation_hint: str = "model.set_tokenizer(tokenizer, truncation=True)"

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """``(N, T)`` ids for ``texts``, right-padded with 0; too-long texts are an error unless
        ``truncation`` (then the first ``length`` or ``context`` ids are kept)."""
        limit = self.length or self.context
        if limit is None or self.truncation:
            return self.tokenizer.encode_batch(texts, length=limit, truncation=self.truncation)
        rows = [self.tokenizer.encode(text) for text in texts]
        for index, row in enumerate(rows):
            if len(row) > limit:
                raise DataError(
                    f"text {index} encodes to {len(row)} tokens, more than the model reads "
                    f"({limit}). Fix: {self.truncation_hint} to keep the first {limit} tokens, "
                    f"or shorten the text."
                )
        return self.tokenizer.encode_batch(texts, length=self.length)


def is_text_batch(x: Any) -> bool:
    """True for a non-empty list or tuple of strings (what ``predict`` encodes with a tokenizer)."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(t, str) for t in x)


def text_encoding(
    module: nn.Module,
    tokenizer: Any,
    *,
    length: int | None = None,
    truncation: bool = False,
    truncation_hint: str | None = None,
) -> TextEncoding:
    """Check ``tokenizer`` against ``module`` and return how to encode text for it.

    Raises a ConfigError when the tokenizer can produce ids the module's first embedding table
    has no row for, or when ``length`` exceeds the module's context.
    """
    size = getattr(tokenizer, "vocabulary_size", None)
    if not hasattr(tokenizer, "encode_batch") or not isinstance(size, int):
        raise ConfigError(
            f"expected an ember tokenizer (ember.nlp.CharTokenizer, WordTokenizer or "
            f"BPETokenizer), received {type(tokenizer).__name__}."
        )
    length = checks.positive_int("length", length, allow_none=True)
    rows = embedding_rows(module)
    if rows is not None and size > rows:
        raise ConfigError(
            f"the tokenizer has {size} ids but the model's embedding table has {rows} rows: ids "
            f"{rows}..{size - 1} would have no vector. Fix: attach the tokenizer the model was "
            f"trained with, or build the Embedding with input_dim={size} "
            f"(tokenizer.vocabulary_size)."
        )
    context = model_context(module)
    if length is not None and context is not None and length > context:
        raise ConfigError(
            f"length={length} is longer than the model reads ({context} positions). "
            f"Fix: pass length={context} or less."
        )
    encoding = TextEncoding(tokenizer, length, truncation, context)
    if truncation_hint is not None:
        encoding = dataclasses.replace(encoding, truncation_hint=truncation_hint)
    return encoding


def embedding_rows(module: nn.Module) -> int | None:
    """Rows of the first embedding table in ``module`` (ember ``Embedding`` or ``nn.Embedding``)."""
    for layer in module.modules():
        if isinstance(layer, nn.Embedding):
            return layer.num_embeddings
        rows = getattr(layer, "input_dim", None)
        if type(layer).__name__ == "Embedding" and isinstance(rows, int):
            return rows
    return None


def model_context(module: nn.Module) -> int | None:
    """The longest sequence ``module``'s position embeddings hold, or None when unlimited."""
    lengths = [
        value
        for layer in module.modules()
        for value in (
            getattr(layer, "sequence_length", None),
            getattr(getattr(layer, "config", None), "max_positions", None),
        )
        if isinstance(value, int)
    ]
    return min(lengths) if lengths else None


TOKENIZER_FILE = "tokenizer.json"  # beside a saved model's config.json


def load_tokenizer(path: Any) -> Any:
    """Read any ember tokenizer file, whichever class wrote it (``CharTokenizer`` ...)."""
    try:
        kind = json.loads(Path(path).read_text(encoding="utf-8")).get("ember_tokenizer")
    except (OSError, ValueError, AttributeError) as error:
        raise SaveError(f"{path} is not a readable tokenizer JSON file ({error}).") from error
    classes = {"CharTokenizer": CharTokenizer, "WordTokenizer": WordTokenizer}
    classes["BPETokenizer"] = BPETokenizer
    if kind not in classes:
        raise SaveError(
            f"{path} holds no ember tokenizer (found {kind!r}). Fix: save it with tokenizer.save."
        )
    return classes[kind].load(path)
