"""Keras' ``pad_sequences``: lists of different lengths -> one ``(samples, maxlen)`` array."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ember import checks
from ember.errors import DataError


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (or cut) every sequence to ``maxlen``, exactly as Keras' ``pad_sequences``.

    ``maxlen`` defaults to the longest sequence. ``padding="pre"`` puts ``value`` before a short
    sequence, ``"post"`` after it; ``truncating="pre"`` drops a long sequence's first items,
    ``"post"`` its last. Items may be arrays themselves (every one of the same shape): the
    result is then ``(samples, maxlen, *item_shape)``.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3, 4]], maxlen=2, padding="post", truncating="post")
        array([[1, 0],
               [2, 3]], dtype=int32)
    """
    checks.positive_int("maxlen", maxlen, allow_none=True)
    checks.one_of("padding", padding, ("pre", "post"))
    checks.one_of("truncating", truncating, ("pre", "post"))
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise DataError(
            f"pad_sequences expected a list of sequences, received {type(sequences).__name__}. "
            f"Fix: pass e.g. [[1, 2], [3]]."
        )
    lengths, item_shape = [], None
    for position, sequence in enumerate(sequences):
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__len__"):
            raise DataError(
                f"pad_sequences expected a list of sequences, but item {position} is "
                f"{sequence!r}. Fix: wrap single values in a list, e.g. [[1], [2, 3]]."
            )
        lengths.append(len(sequence))
        if item_shape is None and len(sequence):  # the first non-empty one sets the item shape
            item_shape = np.asarray(sequence).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    padded = np.full((len(sequences), maxlen, *item_shape), value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen])
        if kept.shape[1:] != item_shape:
            raise DataError(
                f"pad_sequences: the items of sequence {position} have shape {kept.shape[1:]}, "
                f"those of the first non-empty sequence {item_shape}. Fix: give every item one "
                f"shape."
            )
        if padding == "pre":
            padded[position, maxlen - len(kept) :] = kept
        else:
            padded[position, : len(kept)] = kept
    return padded
