"""Word-level tokenizer: a regex splits text into words and punctuation marks.

Example:
    >>> from ember.nlp import WordTokenizer
    >>> tokenizer = WordTokenizer().fit(["The cat sat.", "The dog sat!"])
    >>> tokenizer.tokenize("The café, naïve — yes.")
    ['the', 'café', ',', 'naïve', '—', 'yes', '.']
    >>> tokenizer.decode(tokenizer.encode("the dog, the cat."))
    'the dog [UNK] the cat.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError
from ember.nlp.tokenizer_base import (
    Text,
    Tokenizer,
    Vocabulary,
    as_corpus,
    as_text,
    check_oov_token,
    not_fitted,
)

# A word is a run of letters, digits or underscores (Unicode-aware); any other non-space
# character is a token of its own. So "don't" -> "don", "'", "t" and "3.14" -> "3", ".", "14".
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")

# decode puts no space before closing punctuation and none after opening brackets.
_NO_SPACE_BEFORE = frozenset(".,;:!?%)]}")
_NO_SPACE_AFTER = frozenset("([{")


class WordTokenizer(Tokenizer):
    """Split text into words and punctuation with :data:`WORD_PATTERN`; one id per word.

    The vocabulary is ``[PAD]`` (id 0), the OOV token (id 1, unless ``oov_token=None``), then the
    words seen at least ``min_freq`` times in ``fit``, most frequent first; ties are broken by
    first appearance in the fitted texts.

    ``decode`` joins words with single spaces, with none before ``.,;:!?%)]}`` or after ``([{``.
    So the round trip is exact up to whitespace and, with ``lowercase=True``, case:
    ``decode(encode(text))`` re-encodes to the same ids, but ``"a  b"`` comes back as ``"a b"``
    and ``"Don't"`` as ``"don ' t"``.

    Args:
        lowercase: lowercase text before splitting (in ``fit`` and ``encode``).
        min_freq: keep only words seen at least this many times in ``fit``.
        max_vocab: cap on the whole vocabulary size, ``[PAD]`` and the OOV token included (so
            it is the ``input_dim`` of the ``Embedding`` that reads the ids); rarer words go.
        oov_token: token for words outside the vocabulary; None makes them a DataError.

    Example:
        >>> tokenizer = WordTokenizer(min_freq=2).fit(["a b a", "c b a"])
        >>> tokenizer.vocabulary, tokenizer.encode("a c b")
        (['[PAD]', '[UNK]', 'a', 'b'], [2, 1, 3])
    """

    def __init__(
        self,
        lowercase: bool = True,
        min_freq: int = 1,
        max_vocab: int | None = None,
        oov_token: str | None = "[UNK]",
    ) -> None:
        check_oov_token(oov_token)
        specials = 1 if oov_token is None else 2
        min_freq = checks.positive_int("min_freq", min_freq)
        if max_vocab is not None and (
            isinstance(max_vocab, bool) or not isinstance(max_vocab, int) or max_vocab <= specials
        ):
            raise ConfigError(
                f"expected max_vocab to be None or an integer above {specials} (the vocabulary "
                f"holds [PAD]{'' if oov_token is None else ' and ' + oov_token} first), received "
                f"max_vocab={max_vocab!r}"
            )
        self.lowercase = bool(lowercase)
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.oov_token = oov_token
        self._vocabulary: Vocabulary | None = None

    def fit(self, texts: Text | Iterable[Text]) -> WordTokenizer:
        """Build the vocabulary from ``texts`` (a list of strings; a single str is one text).

        Example:
            >>> WordTokenizer(max_vocab=3).fit(["b a a"]).vocabulary
            ['[PAD]', '[UNK]', 'a']
        """
        corpus = as_corpus(texts)
        self._vocabulary = Vocabulary.build(
            (word for text in corpus for word in self.tokenize(text)),
            oov_token=self.oov_token,
            min_freq=self.min_freq,
            max_size=self.max_vocab,
        )
        return self

    @classmethod
    def from_texts(cls, texts: Text | Iterable[Text], **kwargs: Any) -> WordTokenizer:
        """Create and fit in one call; ``kwargs`` are the constructor's arguments.

        Example:
            >>> WordTokenizer.from_texts(["Hi there"], oov_token=None).vocabulary
            ['[PAD]', 'hi', 'there']
        """
        return cls(**kwargs).fit(texts)

    def tokenize(self, text: Text) -> list[str]:
        """The words and punctuation marks of ``text`` (lowercased if ``lowercase``), no lookup.

        Example:
            >>> WordTokenizer().tokenize("Don't stop!")
            ['don', "'", 't', 'stop', '!']
        """
        return [match.group() for match in self._matches(as_text(text))]

    @property
    def vocabulary(self) -> list[str]:
        """The words, indexed by id (``vocabulary[0]`` is ``[PAD]``)."""
        return list(self._fitted().tokens)

    def encode(self, text: Text) -> list[int]:
        """One id per word or punctuation mark of ``text`` (a str, or UTF-8 bytes).

        Example:
            >>> WordTokenizer.from_texts(["a b"]).encode("B, a")
            [3, 1, 2]
        """
        matches = self._matches(as_text(text))
        words = [match.group() for match in matches]
        return self._fitted().ids(words, [match.start() for match in matches], "word")

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Join the words of ``ids`` with spaces (none before ``.,!?`` ...); padding is skipped.

        Example:
            >>> tokenizer = WordTokenizer.from_texts(["hello, world!"])
            >>> tokenizer.decode(tokenizer.encode("Hello , world !"))
            'hello, world!'
        """
        words = self._fitted().lookup_tokens(ids)
        pieces = []
        for index, word in enumerate(words):
            if index and word not in _NO_SPACE_BEFORE and words[index - 1] not in _NO_SPACE_AFTER:
                pieces.append(" ")
            pieces.append(word)
        return "".join(pieces)

    def _matches(self, text: str) -> list[re.Match[str]]:
        return list(WORD_PATTERN.finditer(text.lower() if self.lowercase else text))

    def _fitted(self) -> Vocabulary:
        if self._vocabulary is None:
            raise not_fitted(self)
        return self._vocabulary

    def _state(self) -> dict[str, Any]:
        return {
            "lowercase": self.lowercase,
            "min_freq": self.min_freq,
            "max_vocab": self.max_vocab,
            "oov_token": self.oov_token,
            "vocabulary": self._fitted().tokens,
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> WordTokenizer:
        tokenizer = cls(
            state["lowercase"], state["min_freq"], state["max_vocab"], state["oov_token"]
        )
        tokenizer._vocabulary = Vocabulary(state["vocabulary"], state["oov_token"])
        return tokenizer
