"""What Keras' lookup layers share (its ``IndexLookup``): the index layout, ``adapt``, the
vocabulary order, and the categorical encodings (also :class:`~ember.layers.CategoryEncoding`'s).

The vocabulary is laid out as in Keras: in ``output_mode="int"`` the mask token (when there is
one) is index 0, then ``num_oov_indices`` out-of-vocabulary slots, then the tokens that
``adapt`` saw, most frequent first, ties broken by the larger token first. The layers are in
:mod:`ember.layers.lookup`.

Example:
    >>> encode_categories(torch.tensor([2, 0]), 3, "one_hot").tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, DataError
from ember.layers.base import Layer

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}  # Keras' older names


def encode_categories(
    indices: torch.Tensor,
    depth: int,
    output_mode: str,
    keep: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Keras' categorical encoding of int64 ``indices`` in ``[0, depth)``, as float32.

    ``"one_hot"`` encodes each index (a last axis of size 1 is replaced); ``"multi_hot"`` and
    ``"count"`` encode each sample, the last axis (a 1-D input is one sample). ``keep`` (bool,
    shaped like ``indices``) drops entries; ``weights`` are summed instead of ones in ``"count"``.

    Example:
        >>> encode_categories(torch.tensor([[0, 2, 2]]), 4, "count").tolist()
        [[1.0, 0.0, 2.0, 0.0]]
    """
    if indices.dim() == 0:
        indices, keep = indices.reshape(1), None if keep is None else keep.reshape(1)
    if output_mode == "one_hot":
        if indices.dim() > 1 and indices.shape[-1] == 1:
            indices, keep = indices.squeeze(-1), None if keep is None else keep.squeeze(-1)
        encoded = F.one_hot(indices, depth).float()
        return encoded if keep is None else encoded * keep.unsqueeze(-1)
    values = torch.ones(indices.shape, device=indices.device) if weights is None else weights
    if keep is not None:
        values = values * keep
    counts = torch.zeros(*indices.shape[:-1], depth, device=indices.device, dtype=values.dtype)
    counts.scatter_add_(-1, indices, values)
    return (counts > 0).float() if output_mode == "multi_hot" else counts


class IndexLookup(Layer):
    """What StringLookup and IntegerLookup share: the index layout, ``adapt``, the encodings.

    Subclasses give ``_tokens(data)`` (the data as a numpy array of tokens), ``_indices(array)``
    (indices and the keep mask) and ``_inverse(indices)``.
    """

    kind = "token"

    def __init__(
        self,
        max_tokens: int | None,
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary: Iterable[Any] | None,
        idf_weights: Iterable[float] | None,
        invert: bool,
        output_mode: str,
        pad_to_max_tokens: bool,
        input_shape: tuple[int, ...] | None,
        name: str | None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        if max_tokens is not None:
            checks.int_at_least("max_tokens", max_tokens, 2)
        if pad_to_max_tokens and max_tokens is None:
            raise ConfigError(
                "pad_to_max_tokens=True needs max_tokens, received max_tokens=None. Fix: set "
                "max_tokens to the output width."
            )
        self.max_tokens, self.pad_to_max_tokens = max_tokens, bool(pad_to_max_tokens)
        self.num_oov_indices = checks.non_negative_int("num_oov_indices", num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.output_mode = checks.one_of(
            "output_mode", ALIASES.get(output_mode, output_mode), OUTPUT_MODES
        )
        self.invert = bool(invert)
        if self.invert and self.output_mode != "int":
            raise ConfigError(
                f"invert=True maps indices back to tokens and needs output_mode='int', "
                f"received output_mode={output_mode!r}."
            )
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ConfigError(
                f"idf_weights are used only with output_mode='tf_idf', received "
                f"output_mode={output_mode!r}. Fix: drop idf_weights or use 'tf_idf'."
            )
        if vocabulary is not None and self.output_mode == "tf_idf" and idf_weights is None:
            raise ConfigError(
                "output_mode='tf_idf' with a given vocabulary needs idf_weights (one per token). "
                "Fix: pass idf_weights=..., or adapt the layer instead."
            )
        self.tokens: list[Any] = []
        self.register_buffer("idf_weights", None, persistent=False)
        self.static = vocabulary is not None  # given a vocabulary: adapt would replace it
        self.built = True  # nothing to build: the vocabulary is the state
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- the layout ------------------------------------------------------------------------------
    @property
    def oov_start(self) -> int:
        """The first out-of-vocabulary index (1 when the mask token holds index 0)."""
        return int(self.mask_token is not None and self.output_mode == "int")

    @property
    def token_start(self) -> int:
        """The index of the first real token."""
        return self.oov_start + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV slots included."""
        return self.token_start + len(self.tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The tokens in index order; with the mask and OOV tokens unless told otherwise."""
        if not include_special_tokens:
            return list(self.tokens)
        specials = [self.mask_token] * self.oov_start + [self.oov_token] * self.num_oov_indices
        return specials + list(self.tokens)

    def set_vocabulary(self, vocabulary: Iterable[Any], idf_weights: Any = None) -> None:
        """Use ``vocabulary`` (with or without the leading mask/OOV tokens), as Keras does."""
        vocabulary = list(self._tokens(list(vocabulary)).ravel().tolist())
        if not vocabulary:
            raise ConfigError("the vocabulary is empty. Fix: pass at least one token.")
        specials = self.get_vocabulary()[: self.token_start]
        has_specials = vocabulary[: self.token_start] == specials
        tokens = vocabulary[self.token_start :] if has_specials else vocabulary
        repeated = sorted({t for t, n in Counter(tokens).items() if n > 1}, key=str)
        reserved = [t for t in (self.mask_token,) if t is not None and t in tokens]
        if repeated or reserved:
            raise ConfigError(
                f"the vocabulary must hold each token once and not the mask token, received "
                f"repeated {repeated} and mask {reserved}. Fix: deduplicate it, or put the "
                f"special tokens first in this order: {specials}."
            )
        if self.max_tokens is not None and self.token_start + len(tokens) > self.max_tokens:
            raise ConfigError(
                f"the vocabulary has {self.token_start + len(tokens)} entries (special tokens "
                f"included), more than max_tokens={self.max_tokens}. Fix: raise max_tokens."
            )
        weights = None
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype=np.float64).ravel()
            if len(weights) != len(vocabulary):
                raise ConfigError(
                    f"idf_weights has {len(weights)} values for a vocabulary of "
                    f"{len(vocabulary)}. Fix: give one weight per vocabulary entry."
                )
            # Special tokens not given get the mean weight (Keras' rule).
            front = [] if has_specials else [weights.mean()] * self.token_start
            weights = np.concatenate([front, weights])
        self._use(tokens, weights)

    # -- learning the vocabulary ----------------------------------------------------------------
    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data``: an array or list (each element one document), or
        an iterable of batches (each batch a document, or rows of documents); at most ``steps``
        batches."""
        if isinstance(data, (str, list, tuple, np.ndarray, torch.Tensor)):
            array = self._tokens(data)
            array = array.reshape(-1, 1) if array.ndim <= 1 else array
            documents: Iterable[list[Any]] = (row.ravel().tolist() for row in array)
        else:
            documents = self._batch_documents(data, steps)
        self.learn_vocabulary(documents)

    def _batch_documents(self, data: Iterable[Any], steps: int | None) -> Iterator[list[Any]]:
        for step, batch in enumerate(data):
            if steps is not None and step >= steps:
                return
            array = self._tokens(batch)
            rows = [array] if array.ndim <= 1 else array
            yield from (row.ravel().tolist() for row in rows)

    def learn_vocabulary(self, documents: Iterable[list[Any]]) -> None:
        """Count the tokens of ``documents`` (lists of tokens) and keep the most frequent ones."""
        if self.static:
            raise ConfigError(
                f"this {type(self).__name__} was given its vocabulary; adapt would replace it. "
                f"Fix: create the layer without vocabulary= to adapt it, or call "
                f"set_vocabulary(...)."
            )
        counts: Counter[Any] = Counter()
        document_counts: Counter[Any] = Counter()
        documents_seen = 0
        for document in documents:
            counts.update(document)
            if self.output_mode == "tf_idf":
                document_counts.update(set(document))
            documents_seen += 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            raise DataError(
                f"{type(self).__name__}.adapt found no {self.kind}s in the data (it was empty, "
                f"or held only the mask and OOV tokens). Fix: pass the training data."
            )
        # Keras sorts by (count, token) and reverses: most frequent first, ties larger first.
        tokens = sorted(counts, key=lambda token: (counts[token], token), reverse=True)
        if self.max_tokens is not None:
            tokens = tokens[: self.max_tokens - self.token_start]
        weights = None
        if self.output_mode == "tf_idf":
            idf = [math.log(1 + documents_seen / (1 + document_counts[t])) for t in tokens]
            weights = np.array([float(np.mean(idf))] * self.token_start + idf)
        self._use(tokens, weights)

    def _use(self, tokens: list[Any], weights: np.ndarray | None) -> None:
        self.tokens = list(tokens)
        self._index = {token: self.token_start + i for i, token in enumerate(self.tokens)}
        if weights is not None:
            padding = self._depth() - len(weights)
            self.idf_weights = torch.tensor(np.pad(weights, (0, padding)), dtype=torch.float32)

    # -- calling ---------------------------------------------------------------------------------
    def forward(self, inputs: Any) -> Any:
        if not self.tokens:
            raise ConfigError(
                f"this {type(self).__name__} has no vocabulary yet. Fix: call adapt(data) or "
                f"pass vocabulary=[...]."
            )
        if self.invert:
            return self._inverse(inputs)
        indices, keep = self._indices(inputs)
        if self.output_mode == "int":
            return indices
        encoded = encode_categories(indices, self._depth(), self.output_mode, keep)
        if self.output_mode == "tf_idf":
            encoded = encoded * self.idf_weights.to(encoded.device)
        return encoded

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def _no_oov_slot(self, unknown: list[Any]) -> DataError:
        return DataError(
            f"{type(self).__name__}(num_oov_indices=0) received {self.kind}s outside its "
            f"vocabulary: {unknown[:5]}. Fix: set num_oov_indices=1 to map them to "
            f"{self.oov_token!r}, or add them to the vocabulary."
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # The learned vocabulary goes into the config, so the layer rebuilds without data.
        if self.tokens:
            config["vocabulary"] = self.get_vocabulary()
            if self.idf_weights is not None:
                config["idf_weights"] = self.idf_weights[: self.vocabulary_size()].tolist()
        return config

    def extra_repr(self) -> str:
        return f"vocabulary_size={self.vocabulary_size()}, output_mode={self.output_mode!r}"

    def _tokens(self, data: Any) -> np.ndarray:
        raise NotImplementedError

    def _indices(self, data: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def _inverse(self, indices: Any) -> Any:
        raise NotImplementedError
