"""Character-level tokenizer: one id per Unicode code point, exact round trips.

Example:
    >>> from ember.nlp import CharTokenizer
    >>> tokenizer = CharTokenizer.from_texts(["naïve café"])
    >>> ids = tokenizer.encode("café")
    >>> ids, tokenizer.decode(ids)
    ([7, 1, 8, 9], 'café')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ember.nlp.tokenizer_base import (
    Text,
    Tokenizer,
    Vocabulary,
    as_corpus,
    as_text,
    check_oov_token,
    not_fitted,
)


class CharTokenizer(Tokenizer):
    """Split text into Unicode code points; id 0 is ``[PAD]``, then the OOV token if any.

    Characters are ordered by count in the fitted texts, most frequent first; ties are broken by
    first appearance. Text is not normalised: ``"é"`` and ``"e"`` + combining accent are different
    sequences, and ``decode(encode(text)) == text`` exactly for any text of known characters.

    Args:
        oov_token: if given, characters not seen in ``fit`` map to this token (id 1); if None
            (the default) an unseen character is a :class:`~ember.errors.DataError`.

    Example:
        >>> tokenizer = CharTokenizer().fit(["abba", "cab"])
        >>> tokenizer.vocabulary
        ['[PAD]', 'a', 'b', 'c']
        >>> tokenizer.encode("cab"), tokenizer.decode([3, 1, 2, 0, 0])
        ([3, 1, 2], 'cab')
    """

    def __init__(self, oov_token: str | None = None) -> None:
        check_oov_token(oov_token)
        self.oov_token = oov_token
        self._vocabulary: Vocabulary | None = None

    def fit(self, texts: Text | Iterable[Text]) -> CharTokenizer:
        """Build the vocabulary from ``texts`` (a list of strings; a single str is one text).

        Example:
            >>> CharTokenizer().fit("hello").vocabulary_size
            5
        """
        corpus = as_corpus(texts)
        self._vocabulary = Vocabulary.build(
            (char for text in corpus for char in text), oov_token=self.oov_token
        )
        return self

    @classmethod
    def from_texts(
        cls, texts: Text | Iterable[Text], oov_token: str | None = None
    ) -> CharTokenizer:
        """Create and fit in one call: ``CharTokenizer.from_texts(texts)``.

        Example:
            >>> CharTokenizer.from_texts(["hi"]).vocabulary
            ['[PAD]', 'h', 'i']
        """
        return cls(oov_token=oov_token).fit(texts)

    @property
    def vocabulary(self) -> list[str]:
        """The characters, indexed by id (``vocabulary[0]`` is ``[PAD]``)."""
        return list(self._fitted().tokens)

    def encode(self, text: Text) -> list[int]:
        """One id per character of ``text`` (a str, or UTF-8 bytes).

        Example:
            >>> CharTokenizer.from_texts(["ab"]).encode(b"ba")
            [2, 1]
        """
        text = as_text(text)
        return self._fitted().ids(text, range(len(text)), "character")

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Join the characters of ``ids``; padding (id 0) is skipped.

        Example:
            >>> CharTokenizer.from_texts(["ab"]).decode([2, 1, 0])
            'ba'
        """
        return "".join(self._fitted().lookup_tokens(ids))

    def _fitted(self) -> Vocabulary:
        if self._vocabulary is None:
            raise not_fitted(self)
        return self._vocabulary

    def _state(self) -> dict[str, Any]:
        return {"oov_token": self.oov_token, "vocabulary": self._fitted().tokens}

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> CharTokenizer:
        tokenizer = cls(oov_token=state["oov_token"])
        tokenizer._vocabulary = Vocabulary(state["vocabulary"], state["oov_token"])
        return tokenizer
