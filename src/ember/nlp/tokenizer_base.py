"""What ember's tokenizers share: the base class, the vocabulary, input checks, batching, save/load.

Every tokenizer maps text to ids and back with id 0 reserved for padding, so a batch from
:meth:`Tokenizer.encode_batch` feeds ``Embedding(..., mask_zero=True)`` directly. Tokenizers are
saved as one JSON file, written atomically, that names the tokenizer class that wrote it.

Example:
    >>> from ember.nlp import CharTokenizer
    >>> tokenizer = CharTokenizer.from_texts(["hello", "help"])
    >>> tokenizer.encode_batch(["he", "hello"])
    tensor([[2, 3, 0, 0, 0],
            [2, 3, 1, 1, 4]])
"""

from __future__ import annotations

import json
import numbers
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

from ember import checks
from ember.errors import ConfigError, DataError, SaveError
from ember.files import write_json

PAD_TOKEN = "[PAD]"  # always id 0
FORMAT = 1  # version of ember's tokenizer JSON layout

Text = str | bytes  # bytes must be UTF-8
TokenizerType = TypeVar("TokenizerType", bound="Tokenizer")


class Tokenizer(ABC):
    """Base class: ``encode``/``decode`` one text, ``encode_batch`` many, ``save``/``load``.

    Subclasses implement :meth:`encode`, :meth:`decode`, :attr:`vocabulary` and the two JSON hooks
    ``_state``/``_from_state``; batching, padding, truncation and files are done here.

    Example:
        >>> import tempfile, pathlib
        >>> from ember.nlp import WordTokenizer
        >>> tokenizer = WordTokenizer().fit(["the cat sat", "the dog"])
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "words.json"
        >>> tokenizer.save(path)
        >>> WordTokenizer.load(path).encode("the dog sat")
        [2, 5, 4]
    """

    @abstractmethod
    def encode(self, text: Text) -> list[int]:
        """Turn one text into a list of ids (never containing the padding id 0)."""

    @abstractmethod
    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Turn ids back into text; padding (id 0) is skipped, an unknown id is a DataError."""

    @property
    @abstractmethod
    def vocabulary(self) -> list[str]:
        """The tokens, indexed by id (``vocabulary[0]`` is the padding token)."""

    @abstractmethod
    def _state(self) -> dict[str, Any]:
        """Everything needed to rebuild this tokenizer, as JSON-ready data."""

    @classmethod
    @abstractmethod
    def _from_state(cls: type[TokenizerType], state: dict[str, Any]) -> TokenizerType:
        """Rebuild a tokenizer from :meth:`_state`'s data (KeyError/TypeError/ValueError if bad)."""

    @property
    def vocabulary_size(self) -> int:
        """Number of ids, padding included: the ``input_dim`` of an ``Embedding`` over them."""
        return len(self.vocabulary)

    @property
    def padding_token(self) -> str | None:
        """The token at id 0, or None where id 0 is a real token (some loaded files)."""
        return PAD_TOKEN

    def encode_batch(
        self,
        texts: Sequence[Text],
        length: int | None = None,
        padding: bool = True,
        truncation: bool = False,
    ) -> torch.Tensor:
        """Encode ``texts`` into a ``(N, T)`` LongTensor, right-padded with id 0.

        ``T`` is ``length`` if given, else the longest text's length. A text longer than ``length``
        is an error unless ``truncation=True``, which keeps its first ``length`` ids. With
        ``padding=False`` every text must encode to exactly ``T`` ids.

        Example:
            >>> from ember.nlp import CharTokenizer
            >>> tokenizer = CharTokenizer.from_texts(["abc"])
            >>> tokenizer.encode_batch(["abc", "a"], length=2, truncation=True)
            tensor([[1, 2],
                    [1, 0]])
        """
        if isinstance(texts, (str, bytes, bytearray)):
            raise DataError(
                f"encode_batch expects a list of texts, received a single {type(texts).__name__}. "
                f"Fix: encode_batch([text]), or encode(text) for one list of ids."
            )
        if length is not None:
            length = checks.positive_int("length", length)
        if truncation and length is None:
            raise ConfigError("truncation=True needs a length to cut to. Fix: pass length=... too.")
        rows = [self.encode(text) for text in texts]
        if not rows:
            raise DataError("encode_batch received no texts. Fix: pass a non-empty list of texts.")
        longest = max(len(row) for row in rows)
        target = longest if length is None else length
        for index, row in enumerate(rows):
            if len(row) > target and not truncation:
                raise DataError(
                    f"text {index} encodes to {len(row)} tokens, more than length={target}. "
                    f"Fix: pass truncation=True to keep the first {target} tokens, or "
                    f"length={longest} (the longest text) or more."
                )
            if len(row) < target and not padding:
                raise DataError(
                    f"text {index} encodes to {len(row)} tokens, fewer than {target}, and "
                    f"padding=False. Fix: pass padding=True to pad with id 0."
                )
        if any(len(row) < target for row in rows) and self.padding_token is None:
            raise ConfigError(
                f"cannot pad: id 0 of this tokenizer is the real token {self.vocabulary[0]!r}, "
                f"and ember pads with id 0 (so Embedding(mask_zero=True) masks padding). Fix: pass "
                f"texts that encode to the same length, or use a tokenizer whose id 0 is padding."
            )
        padded = [row[:target] + [0] * (target - len(row[:target])) for row in rows]
        return torch.tensor(padded, dtype=torch.long).reshape(len(rows), target)  # (N, T)

    def save(self, path: str | Path) -> None:
        """Write this tokenizer to a JSON file at ``path``, atomically (a crash leaves no half file)."""
        data = {"ember_tokenizer": type(self).__name__, "format": FORMAT, **self._state()}
        try:
            write_json(data, Path(path))
        except OSError as error:
            raise SaveError(
                f"could not write {path} ({error}); a previous file is intact"
            ) from error

    @classmethod
    def load(cls: type[TokenizerType], path: str | Path) -> TokenizerType:
        """Read a tokenizer written by ``save``; a missing, corrupt or other-kind file is a SaveError."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise SaveError(
                f"no tokenizer file at {path}. Fix: pass the path given to tokenizer.save."
            ) from error
        except (OSError, ValueError) as error:
            raise SaveError(f"{path} is not a readable tokenizer JSON file ({error}).") from error
        kind = data.get("ember_tokenizer") if isinstance(data, dict) else None
        if kind != cls.__name__:
            hint = f"{kind}.load(path)" if isinstance(kind, str) else "the class that saved it"
            if isinstance(data, dict) and "model" in data and kind is None:
                hint = "BPETokenizer.from_file(path) (it looks like a Hugging Face tokenizer.json)"
            raise SaveError(
                f"{path} is not a {cls.__name__} file (it holds {kind or 'no ember tokenizer'}). "
                f"Fix: load it with {hint}."
            )
        if data.get("format") != FORMAT:
            raise SaveError(f"{path} has format {data.get('format')!r}; expected {FORMAT}.")
        try:
            return cls._from_state(data)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SaveError(
                f"{path} is a corrupt {cls.__name__} file ({type(error).__name__}: {error}). "
                f"Fix: save the tokenizer again."
            ) from error


class Vocabulary:
    """Tokens in id order: ``[PAD]`` (id 0), the OOV token if any (id 1), then corpus tokens.

    Example:
        >>> vocabulary = Vocabulary.build(["b", "a", "b", "c", "a"], oov_token="[UNK]")
        >>> vocabulary.tokens
        ['[PAD]', '[UNK]', 'b', 'a', 'c']
    """

    def __init__(self, tokens: Sequence[str], oov_token: str | None = None) -> None:
        check_oov_token(oov_token)
        specials = [PAD_TOKEN] + ([oov_token] if oov_token is not None else [])
        tokens = list(tokens)
        if tokens[: len(specials)] != specials or len(set(tokens)) != len(tokens):
            raise ValueError(f"a vocabulary must start with {specials} and hold no duplicates")
        if not all(isinstance(token, str) for token in tokens):
            raise TypeError("every token of a vocabulary must be a string")
        self.tokens = tokens
        self.oov_token = oov_token
        self._ids = {token: index for index, token in enumerate(tokens)}

    @classmethod
    def build(
        cls,
        pieces: Iterable[str],
        *,
        oov_token: str | None = None,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> Vocabulary:
        """Count ``pieces``; keep those seen ``min_freq`` times or more, most frequent first.

        Ties are broken by first appearance in ``pieces``. ``max_size`` caps the whole vocabulary,
        padding and OOV token included.
        """
        counts = Counter(pieces)  # keys in first-appearance order
        specials = [PAD_TOKEN] + ([oov_token] if oov_token is not None else [])
        kept = [t for t, count in counts.items() if count >= min_freq and t not in specials]
        kept.sort(key=lambda token: -counts[token])  # stable: ties keep first-appearance order
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        return cls(specials + kept, oov_token)

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, pieces: Sequence[str], offsets: Sequence[int], kind: str) -> list[int]:
        """Look up ``pieces`` (found at character ``offsets`` of the text); unknown ones map to OOV."""
        oov_id = self._ids.get(self.oov_token) if self.oov_token is not None else None
        ids = []
        for piece, offset in zip(pieces, offsets):
            token_id = self._ids.get(piece, oov_id)
            if token_id is None:
                raise DataError(
                    f"the {kind} {piece!r} at character {offset} of the text is not in the "
                    f"vocabulary and this tokenizer has no oov_token. Fix: fit on text that "
                    f"contains it, or set oov_token='[UNK]' to map unknown {kind}s to one id."
                )
            ids.append(token_id)
        return ids

    def lookup_tokens(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        """The tokens of ``ids``, padding (id 0) skipped; an id outside the vocabulary is an error."""
        return [self.tokens[i] for i in check_ids(ids, len(self.tokens)) if i != 0]


def as_text(text: Any) -> str:
    """Return ``text`` as a str; bytes must be valid UTF-8 (the error names the bad byte's offset)."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        try:
            return bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise DataError(
                f"the bytes are not valid UTF-8: byte offset {error.start} "
                f"(0x{text[error.start]:02x}): {error.reason}. Fix: decode them with their real "
                f"encoding first (e.g. data.decode('latin-1')) and pass a str."
            ) from None
    raise DataError(f"expected a text as str (or UTF-8 bytes), received {type(text).__name__}")


def as_corpus(texts: Text | Iterable[Text]) -> list[str]:
    """The texts to fit on, as strs (a single str is one text); an empty corpus is an error."""
    if isinstance(texts, (str, bytes, bytearray)):
        texts = [texts]
    corpus = [as_text(text) for text in texts]
    if not any(corpus):
        raise DataError(
            f"cannot fit a tokenizer on an empty corpus (received {len(corpus)} texts, none with "
            f"any characters). Fix: pass a list of non-empty strings."
        )
    return corpus


def check_ids(ids: Sequence[int] | torch.Tensor, vocabulary_size: int) -> list[int]:
    """Return ``ids`` as a list of ints, each in ``[0, vocabulary_size)``, else a DataError."""
    if isinstance(ids, torch.Tensor):
        if ids.dim() != 1:
            raise DataError(
                f"decode expects one sequence of ids (1-D), received shape {tuple(ids.shape)}. "
                f"Fix: decode each row, e.g. [tokenizer.decode(row) for row in batch]."
            )
        ids = ids.tolist()
    checked = []
    for position, token_id in enumerate(ids):
        if not isinstance(token_id, numbers.Integral) or not 0 <= token_id < vocabulary_size:
            raise DataError(
                f"id {token_id!r} at position {position} is outside the vocabulary (ids 0 to "
                f"{vocabulary_size - 1}). Fix: decode ids made by this same tokenizer."
            )
        checked.append(int(token_id))
    return checked


def not_fitted(tokenizer: Tokenizer) -> ConfigError:
    """The error for using a tokenizer before it has a vocabulary."""
    name = type(tokenizer).__name__
    return ConfigError(
        f"this {name} has no vocabulary yet. Fix: call tokenizer.fit(texts) first, or build it "
        f"with {name}.from_texts(texts) or {name}.load(path)."
    )


def check_oov_token(oov_token: Any) -> None:
    """Raise a ConfigError unless ``oov_token`` is None or a non-empty string other than [PAD]."""
    if oov_token is not None and (not isinstance(oov_token, str) or oov_token in ("", PAD_TOKEN)):
        raise ConfigError(
            f"expected oov_token to be None or a non-empty string other than {PAD_TOKEN!r}, "
            f"received oov_token={oov_token!r}"
        )
