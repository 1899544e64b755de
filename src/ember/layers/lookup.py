"""Keras' lookup layers: StringLookup, IntegerLookup (vocabulary -> indices) and CategoryEncoding.

The vocabulary is laid out as in Keras (see :mod:`ember.layers.index_lookup`): in
``output_mode="int"`` the mask token (when there is one) is index 0, then the out-of-vocabulary
slots (``"[UNK]"``), then the tokens ``adapt`` saw, most frequent first, ties larger first.
StringLookup takes Python strings (a list, nested lists or a numpy array of ``str``), not
tensors, and returns torch tensors: it belongs in the data pipeline, before ``fit``, where
Keras' guide maps it over a ``tf.data`` dataset (``x = lookup(words)``). IntegerLookup and
CategoryEncoding take integer tensors (or lists) and can sit inside a model.

Example:
    >>> lookup = StringLookup()
    >>> lookup.adapt(["a", "b", "b", "c", "c", "c"])
    >>> lookup.get_vocabulary()
    ['[UNK]', 'c', 'b', 'a']
    >>> lookup([["a", "c"], ["z", "b"]]).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from itertools import repeat
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.layers.base import Layer
from ember.layers.index_lookup import ALIASES, IndexLookup, encode_categories
from ember.layers.registry import LAYERS

# Stand-in indices while looking strings up: no slot yet, and the mask token.
_UNKNOWN, _MASKED = -1, -2


@LAYERS.register()
class StringLookup(IndexLookup):
    """Map strings to indices (Keras' ``StringLookup``), or back with ``invert=True``.

    Call it on a list (or nested lists, or a numpy array) of strings; it returns an int64
    tensor of the same shape, or the ``output_mode`` encoding. With ``num_oov_indices > 1`` an
    unknown string goes to the slot ``crc32(string) % num_oov_indices`` (Keras uses FarmHash,
    so the slot differs).

    Example:
        >>> lookup = StringLookup(vocabulary=["a", "b"], output_mode="multi_hot")
        >>> lookup(["a", "z"]).tolist()
        [1.0, 1.0, 0.0]
    """

    kind = "string"

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Iterable[str] | None = None,
        idf_weights: Iterable[float] | None = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        name: str | None = None,
    ) -> None:
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            idf_weights,
            invert,
            output_mode,
            pad_to_max_tokens,
            None,
            name,
        )

    def _tokens(self, data: Any) -> np.ndarray:
        array = np.array(data, dtype=object)
        flat = array.ravel().tolist()
        if not set(map(type, flat)) <= {str}:  # the fast check; the slow path explains
            flat = [t.decode("utf-8") if isinstance(t, bytes) else t for t in flat]
            wrong = next((t for t in flat if not isinstance(t, str)), None)
            if wrong is not None:
                raise DataError(
                    f"StringLookup takes strings (a list, equal-length nested lists or a numpy "
                    f"array of str), received an element {wrong!r} of type "
                    f"{type(wrong).__name__}. Fix: pass strings; use IntegerLookup for ints."
                )
            array = np.array([str(t) for t in flat], dtype=object).reshape(array.shape)
        return array

    def _indices(self, data: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        array = self._tokens(data)
        tokens = array.ravel().tolist()
        oov = self.oov_start if self.num_oov_indices == 1 else _UNKNOWN
        table = self._index
        if self.mask_token is not None:
            table = {**table, self.mask_token: _MASKED}
        indices = np.fromiter(map(table.get, tokens, repeat(oov)), np.int64, len(tokens))
        keep = None
        if self.mask_token is not None:
            masked = indices == _MASKED
            indices[masked] = 0
            keep = torch.from_numpy(~masked.reshape(array.shape))
        unknown = np.flatnonzero(indices == _UNKNOWN)
        if len(unknown) and self.num_oov_indices == 0:
            raise self._no_oov_slot([tokens[i] for i in unknown])
        for i in unknown:
            crc = zlib.crc32(tokens[i].encode("utf-8"))
            indices[i] = self.oov_start + crc % self.num_oov_indices
        result = torch.from_numpy(indices.reshape(array.shape))
        return result, (keep if self.output_mode != "int" else None)

    def _inverse(self, indices: Any) -> Any:
        array = np.asarray(indices.cpu() if isinstance(indices, torch.Tensor) else indices)
        vocabulary = self.get_vocabulary()
        inverse = np.array(
            [
                vocabulary[i] if self.token_start <= i < len(vocabulary) else self.oov_token
                for i in array.ravel().tolist()
            ],
            dtype=object,
        ).reshape(array.shape)
        if self.mask_token is not None:
            inverse[array == 0] = self.mask_token
        return inverse.tolist()


@LAYERS.register()
class IntegerLookup(IndexLookup):
    """Map integers to indices (Keras' ``IntegerLookup``), or back with ``invert=True``.

    Takes an integer tensor (looked up on its device), a list or a numpy array. Unknown values
    go to ``oov_token``'s slot; with ``num_oov_indices > 1`` to ``value % num_oov_indices``.

    Example:
        >>> lookup = IntegerLookup()
        >>> lookup.adapt([7, 7, 3, 12, 12, 12])
        >>> lookup.get_vocabulary(), lookup(torch.tensor([12, 3, 5])).tolist()
        ([-1, 12, 7, 3], [1, 3, 0])
    """

    kind = "integer"
    input_dtype = torch.int64

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Iterable[int] | None = None,
        idf_weights: Iterable[float] | None = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        for label, value in (("mask_token", mask_token), ("oov_token", oov_token)):
            if value is not None and not checks.is_int(value):
                raise ConfigError(f"expected an integer or None, received {label}={value!r}")
        super().__init__(
            max_tokens,
            num_oov_indices,
            mask_token,
            oov_token,
            vocabulary,
            idf_weights,
            invert,
            output_mode,
            pad_to_max_tokens,
            input_shape,
            name,
        )

    def _tokens(self, data: Any) -> np.ndarray:
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        array = np.asarray(data)
        if array.dtype.kind not in "iu" and not (array.dtype == object and array.size == 0):
            raise DataError(
                f"IntegerLookup takes integers, received data of dtype {array.dtype}. Fix: pass "
                f"integer ids (e.g. x.long()); use StringLookup for strings."
            )
        return array.astype(np.int64)

    def _use(self, tokens: list[Any], weights: np.ndarray | None) -> None:
        super()._use([int(t) for t in tokens], weights)
        keys = torch.tensor(self.tokens, dtype=torch.int64)
        keys, order = keys.sort()
        # Sorted tokens and their indices, for a searchsorted lookup on the data's device.
        self.register_buffer("keys", keys, persistent=False)
        self.register_buffer("values", order + self.token_start, persistent=False)

    def _indices(self, data: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(data, torch.Tensor):
            if data.is_floating_point() or data.is_complex():
                raise DataError(
                    f"IntegerLookup takes integer tensors, received dtype {data.dtype}. Fix: "
                    f"pass integer ids, e.g. x.long()."
                )
            x = data.long()
        else:
            x = torch.from_numpy(self._tokens(data))
        keys, values = self.keys.to(x.device), self.values.to(x.device)
        position = torch.searchsorted(keys, x).clamp(max=len(keys) - 1)
        found = keys[position] == x
        if self.num_oov_indices == 0 and not found.all():
            raise self._no_oov_slot(x[~found].unique().tolist())
        oov = x.remainder(max(self.num_oov_indices, 1)) + self.oov_start
        indices = torch.where(found, values[position], oov)
        keep = None
        if self.mask_token is not None:
            masked = x == self.mask_token
            indices = indices.masked_fill(masked, 0)
            keep = None if self.output_mode == "int" else ~masked
        return indices, keep

    def _inverse(self, indices: Any) -> torch.Tensor:
        x = torch.as_tensor(indices).long()
        table = torch.tensor(self.get_vocabulary(), dtype=torch.int64, device=x.device)
        inside = (x >= self.token_start) & (x < len(table))
        result = torch.where(inside, table[x.clamp(0, len(table) - 1)], self.oov_token)
        if self.mask_token is not None:
            result = result.masked_fill(x == 0, self.mask_token)
        return result


@LAYERS.register()
class CategoryEncoding(Layer):
    """Encode integer categories in ``[0, num_tokens)`` (Keras' ``CategoryEncoding``).

    ``"multi_hot"`` and ``"count"`` encode each sample (the last axis; a 1-D input is one
    sample), ``"one_hot"`` each value. ``count_weights`` (``"count"`` only) sums weights
    instead of ones. The output is float32.

    Example:
        >>> CategoryEncoding(4)(torch.tensor([[0, 1], [0, 0], [1, 2], [3, 1]])).tolist()[2]
        [0.0, 1.0, 1.0, 0.0]
    """

    input_dtype = torch.int64

    def __init__(
        self,
        num_tokens: int,
        output_mode: str = "multi_hot",
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.num_tokens = checks.positive_int(
            "num_tokens", num_tokens, fix="use IntegerLookup when the categories are not known"
        )
        self.output_mode = checks.one_of(
            "output_mode", ALIASES.get(output_mode, output_mode), ("multi_hot", "one_hot", "count")
        )

    def forward(self, x: Any, count_weights: Any = None) -> torch.Tensor:
        # Keras also takes lists and numpy arrays of ids.
        return super().forward(
            torch.as_tensor(np.asarray(x) if isinstance(x, list) else x), count_weights
        )

    def call(self, x: torch.Tensor, count_weights: Any = None) -> torch.Tensor:
        if x.is_floating_point() and not torch.equal(x, x.round()):
            raise DataError(
                f"CategoryEncoding takes integer categories, received non-integer values of "
                f"dtype {x.dtype}. Fix: pass integer ids."
            )
        x = x.long()
        if x.numel() and (x.min() < 0 or x.max() >= self.num_tokens):
            raise DataError(
                f"CategoryEncoding(num_tokens={self.num_tokens}) received values from "
                f"{x.min().item()} to {x.max().item()}, expected 0 to {self.num_tokens - 1}. "
                f"Fix: raise num_tokens, or map the values with IntegerLookup first."
            )
        weights = None
        if count_weights is not None:
            if self.output_mode != "count":
                raise ConfigError(
                    f"count_weights are used only with output_mode='count', received "
                    f"output_mode={self.output_mode!r}."
                )
            weights = torch.as_tensor(count_weights, device=x.device).float()
            if weights.shape != x.shape:
                raise ShapeError(
                    f"count_weights must have the inputs' shape {tuple(x.shape)}, received "
                    f"{tuple(weights.shape)}."
                )
        return encode_categories(x, self.num_tokens, self.output_mode, weights=weights)
