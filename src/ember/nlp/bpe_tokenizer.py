"""Subword tokenizers from Hugging Face ``tokenizers``: train a byte-level BPE, or load any
``tokenizer.json`` (BPE, WordPiece, Unigram ...) for encoding.

Example:
    >>> from ember.nlp import BPETokenizer
    >>> tokenizer = BPETokenizer(vocab_size=260).fit(["low lower lowest"] * 10)
    >>> tokenizer.vocabulary_size
    260
    >>> tokenizer.decode(tokenizer.encode("lowest — naïve!"))
    'lowest — naïve!'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ember import checks
from ember.errors import ConfigError, SaveError
from ember.nlp.tokenizer_base import (
    PAD_TOKEN,
    Text,
    Tokenizer,
    as_corpus,
    as_text,
    check_ids,
    not_fitted,
)

if TYPE_CHECKING:  # imported where used: loading tokenizers costs ~0.1 s that `ember list` skips
    import tokenizers

BYTE_ALPHABET_SIZE = 256  # a byte-level BPE starts from one token per byte value


class BPETokenizer(Tokenizer):
    """Byte-level BPE (as in GPT-2) trained with Hugging Face ``tokenizers``, or a loaded file.

    ``fit`` learns merges on your texts. The vocabulary is ``[PAD]`` (id 0), the 256 byte tokens,
    then one token per merge, most frequent merge first. ``vocabulary_size`` equals
    ``vocab_size`` unless the corpus runs out of pairs seen ``min_frequency`` times first; then
    it is smaller (never larger). Any text encodes (there are no unknown bytes) and
    ``decode(encode(text)) == text`` exactly; the text ``"[PAD]"`` is encoded as plain bytes.

    :meth:`from_file` wraps an existing Hugging Face ``tokenizer.json`` instead (for example a
    BERT/MiniLM WordPiece one): its normaliser, pre-tokenizer, unknown-token handling and, with
    ``add_special_tokens=True``, its ``[CLS] ... [SEP]`` template are used as they are; its own
    padding and truncation settings are switched off in favour of :meth:`encode_batch`.

    Args:
        vocab_size: the vocabulary size to train to, ``[PAD]`` and the 256 bytes included.
        min_frequency: merge only pairs seen at least this many times in ``fit``.

    Example:
        >>> tokenizer = BPETokenizer(vocab_size=300, min_frequency=2)
        >>> tokenizer = tokenizer.fit(["the cat sat on the mat", "the cats sat"] * 3)
        >>> tokenizer.vocabulary_size  # fewer than 300: no pair left that occurs twice
        270
        >>> tokenizer.vocabulary[0], tokenizer.encode_batch(["the cat", "cats"]).shape
        ('[PAD]', torch.Size([2, 2]))
    """

    def __init__(self, vocab_size: int = 8000, min_frequency: int = 2) -> None:
        smallest = BYTE_ALPHABET_SIZE + 1
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < smallest:
            raise ConfigError(
                f"expected an integer of at least {smallest} ([PAD] + 256 byte tokens), received "
                f"vocab_size={vocab_size!r}"
            )
        min_frequency = checks.positive_int("min_frequency", min_frequency)
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.add_special_tokens = True
        self._tokenizer: tokenizers.Tokenizer | None = None

    def fit(self, texts: Text | Iterable[Text]) -> BPETokenizer:
        """Train the merges on ``texts`` (a list of strings; a single str is one text).

        Example:
            >>> BPETokenizer(vocab_size=257).fit(["abc"]).vocabulary_size
            257
        """
        import tokenizers

        corpus = as_corpus(texts)
        tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE())
        # add_prefix_space=False keeps the round trip exact (no space is invented at the start).
        tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = tokenizers.decoders.ByteLevel()
        trainer = tokenizers.trainers.BpeTrainer(
            vocab_size=self.vocab_size,
            min_frequency=self.min_frequency,
            special_tokens=[PAD_TOKEN],  # first, so it gets id 0
            initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer.train_from_iterator(corpus, trainer=trainer)
        self._tokenizer = tokenizer
        self._encode_special_tokens_as_text()
        return self

    @classmethod
    def from_texts(
        cls, texts: Text | Iterable[Text], vocab_size: int = 8000, min_frequency: int = 2
    ) -> BPETokenizer:
        """Create and train in one call.

        Example:
            >>> BPETokenizer.from_texts(["aaaa bbbb"] * 4, vocab_size=260).vocabulary_size
            260
        """
        return cls(vocab_size, min_frequency).fit(texts)

    @classmethod
    def from_file(cls, path: str | Path, add_special_tokens: bool = True) -> BPETokenizer:
        """Wrap a Hugging Face ``tokenizer.json`` (or a folder holding one) for encoding.

        ``add_special_tokens`` applies the file's template (e.g. ``[CLS] ... [SEP]``) in
        :meth:`encode`.

        Example:
            >>> import tempfile, pathlib, tokenizers
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "tokenizer.json"
            >>> vocabulary = {"[PAD]": 0, "[UNK]": 1, "hello": 2, "world": 3}
            >>> hf = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocabulary, "[UNK]"))
            >>> hf.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
            >>> hf.save(str(path))
            >>> BPETokenizer.from_file(path).encode("hello big world")
            [2, 1, 3]
        """
        import tokenizers

        path = Path(path)
        if path.is_dir():
            path = path / "tokenizer.json"
        if not path.is_file():
            raise SaveError(
                f"no tokenizer file at {path}. Fix: pass the path of a Hugging Face tokenizer.json "
                f"(or of the folder holding it)."
            )
        try:
            tokenizer = tokenizers.Tokenizer.from_file(str(path))
        except Exception as error:  # tokenizers raises a bare Exception for unreadable files
            raise SaveError(
                f"{path} is not a tokenizer.json the Hugging Face tokenizers library can read "
                f"({error}). Fix: pass a tokenizer.json saved by tokenizers or transformers."
            ) from error
        return cls.from_hf(tokenizer, add_special_tokens=add_special_tokens)

    @classmethod
    def from_hf(
        cls, tokenizer: tokenizers.Tokenizer, add_special_tokens: bool = True
    ) -> BPETokenizer:
        """Wrap a copy of an in-memory ``tokenizers.Tokenizer`` (padding/truncation switched off).

        Example:
            >>> import tokenizers
            >>> words = tokenizers.models.WordLevel({"[PAD]": 0, "[UNK]": 1, "hi": 2}, "[UNK]")
            >>> hf = tokenizers.Tokenizer(words)
            >>> hf.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
            >>> BPETokenizer.from_hf(hf).encode("hi yo hi")
            [2, 1, 2]
        """
        import tokenizers

        if not isinstance(tokenizer, tokenizers.Tokenizer):
            raise ConfigError(
                f"expected a tokenizers.Tokenizer, received {type(tokenizer).__name__}. Fix: for a "
                f"file use BPETokenizer.from_file(path)."
            )
        copy = tokenizers.Tokenizer.from_str(tokenizer.to_str())
        copy.no_padding()
        copy.no_truncation()
        wrapped = cls()
        wrapped._tokenizer = copy
        wrapped.vocab_size = copy.get_vocab_size(with_added_tokens=True)
        wrapped.add_special_tokens = bool(add_special_tokens)
        return wrapped

    @property
    def vocabulary(self) -> list[str]:
        """The tokens, indexed by id, as the Hugging Face tokenizer spells them (bytes as ``Ġ``...)."""
        tokenizer = self._fitted()
        return [tokenizer.id_to_token(i) or "" for i in range(self.vocabulary_size)]

    @property
    def vocabulary_size(self) -> int:
        """Number of ids, special tokens included."""
        return self._fitted().get_vocab_size(with_added_tokens=True)

    @property
    def padding_token(self) -> str | None:
        """The token at id 0 if it is a special token (``[PAD]``...), else None: no padding then."""
        tokenizer = self._fitted()
        token = tokenizer.id_to_token(0)
        is_special = token is not None and tokenizer.decode([0], skip_special_tokens=True) == ""
        return token if is_special else None

    def encode(self, text: Text) -> list[int]:
        """The ids of ``text`` (a str, or UTF-8 bytes), with the file's special tokens if asked.

        Example:
            >>> tokenizer = BPETokenizer(vocab_size=258).fit(["aa aa"])  # learns one merge: "aa"
            >>> tokenizer.encode("aa"), tokenizer.encode("a")
            ([257], [65])
        """
        encoding = self._fitted().encode(as_text(text), add_special_tokens=self.add_special_tokens)
        return encoding.ids

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of ``ids``; special tokens (``[PAD]``, a file's ``[CLS]``/``[SEP]``) are skipped.

        Example:
            >>> BPETokenizer(vocab_size=258).fit(["aa aa"]).decode([257, 65, 0])
            'aaa'
        """
        ids = check_ids(ids, self.vocabulary_size)
        return self._fitted().decode(ids, skip_special_tokens=True)

    def _fitted(self) -> tokenizers.Tokenizer:
        if self._tokenizer is None:
            raise not_fitted(self)
        return self._tokenizer

    def _encode_special_tokens_as_text(self) -> None:
        # In a tokenizer ember trained, "[PAD]" typed in a text is text, not the padding id.
        self._fitted().encode_special_tokens = True

    def _state(self) -> dict[str, Any]:
        return {
            "vocab_size": self.vocab_size,
            "min_frequency": self.min_frequency,
            "add_special_tokens": self.add_special_tokens,
            "special_tokens_as_text": bool(self._fitted().encode_special_tokens),
            "tokenizer": json.loads(self._fitted().to_str()),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> BPETokenizer:
        import tokenizers

        try:
            hf = tokenizers.Tokenizer.from_str(json.dumps(state["tokenizer"]))
        except Exception as error:  # tokenizers raises a bare Exception for bad JSON content
            raise ValueError(
                f"the embedded Hugging Face tokenizer is unreadable: {error}"
            ) from error
        tokenizer = cls.from_hf(hf, add_special_tokens=state["add_special_tokens"])
        tokenizer.vocab_size = state["vocab_size"]
        tokenizer.min_frequency = state["min_frequency"]
        if state["special_tokens_as_text"]:
            tokenizer._encode_special_tokens_as_text()
        return tokenizer
