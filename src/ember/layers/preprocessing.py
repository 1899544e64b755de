"""Keras' numeric preprocessing layers: Rescaling and Normalization (with ``adapt``).

The image layers Resizing and CenterCrop are in :mod:`ember.layers.image_resizing`. The numbers
match Keras 3 on its torch backend (``tests/layers/test_preprocessing.py`` compares them).

Example:
    >>> import torch
    >>> norm = Normalization(axis=None)
    >>> norm.adapt(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    >>> norm(torch.tensor([1.0, 2.0, 3.0])).tolist()
    [-1.4142135381698608, -0.7071067690849304, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.layers.base import Layer
from ember.layers.image_resizing import as_float
from ember.layers.registry import LAYERS


@LAYERS.register()
class Rescaling(Layer):
    """Multiply by ``scale`` and add ``offset``: ``x * scale + offset`` (Keras' ``Rescaling``).

    ``scale`` and ``offset`` are numbers or per-channel sequences. Integer inputs become float32.

    Example:
        >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([[0, 255]])).tolist()
        [[-1.0, 1.0]]
    """

    def __init__(
        self,
        scale: float | Sequence[float],
        offset: float | Sequence[float] = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.scale = _numbers("scale", scale)
        self.offset = _numbers("offset", offset)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = as_float(x)
        return x * self.scale.to(x.device, x.dtype) + self.offset.to(x.device, x.dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "scale": self.scale.tolist(),
            "offset": self.offset.tolist(),
        }


def _numbers(name: str, value: Any) -> torch.Tensor:
    """A number or a (nested) sequence of numbers as a float64 tensor."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or not np.isfinite(array).all():
        raise ConfigError(f"expected a number or a sequence of numbers, received {name}={value!r}")
    return torch.from_numpy(array)


@LAYERS.register()
class Normalization(Layer):
    """Shift and scale to zero mean and unit variance: ``(x - mean) / sqrt(variance)`` (Keras).

    ``axis`` counts the batch axis, as in Keras: each index along the kept axes (``-1``: the
    features) gets its own mean and variance; ``axis=None`` uses one for all values. Pass
    ``mean`` and ``variance``, or learn them with :meth:`adapt` (before or after the layer is
    built; until then it is the identity, mean 0 and variance 1, as in Keras). ``invert=True`` maps normalised values back. The
    statistics are buffers, so they are saved with the model's weights.

    Example:
        >>> norm = Normalization()
        >>> norm.adapt(torch.tensor([[0.0, 7.0], [2.0, 9.0]]))
        >>> norm(torch.tensor([[0.0, 7.0]])).tolist()
        [[-1.0, -1.0]]
    """

    def __init__(
        self,
        axis: int | Sequence[int] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.axis = _axes(axis)
        self.invert = bool(invert)
        if (mean is None) != (variance is None):
            raise ConfigError(
                f"Normalization needs mean and variance together, received mean={mean!r}, "
                f"variance={variance!r}. Fix: pass both, or neither and call adapt(data)."
            )
        self._given = None
        if mean is not None:
            given_mean, given_variance = _numbers("mean", mean), _numbers("variance", variance)
            if given_mean.shape != given_variance.shape or given_mean.dim() > len(self.axis):
                raise ConfigError(
                    f"mean and variance must have one shape with at most {len(self.axis)} "
                    f"axes (axis={self.axis}), received shapes {tuple(given_mean.shape)} and "
                    f"{tuple(given_variance.shape)}."
                )
            self._given = (given_mean, given_variance)
        self.register_buffer("mean", None)
        self.register_buffer("variance", None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        kept, kept_shape = _kept_axes(self.axis, (None, *input_shape))
        self.kept = kept
        if self.mean is not None and tuple(self.mean.shape) != kept_shape:
            raise ShapeError(
                f"Normalization was adapted to statistics of shape {tuple(self.mean.shape)} but "
                f"is called on per-sample shape {input_shape} (statistics {kept_shape}). Fix: "
                f"adapt it to data shaped like the model's inputs."
            )
        if self.mean is None and self._given is not None:
            self._store(*(_broadcast(value, kept, kept_shape) for value in self._given))
        elif self.mean is None:  # not adapted yet: the identity until adapt(), as in Keras
            self._store(torch.zeros(kept_shape), torch.ones(kept_shape))

    @property
    def learns_statistics(self) -> bool:
        """Whether the mean and variance come from :meth:`adapt` (Keras then lists them, and a
        count, as the layer's weights) rather than the constructor."""
        return self._given is None

    def adapt(self, data: Any) -> None:
        """Learn the mean and (biased) variance of ``data`` along the kept axes, as Keras does.

        ``data`` is an array or tensor shaped like a batch, or an iterable of such batches
        (a ``(x, y)`` batch uses its ``x``).
        """
        per_sample = self.built_input_shape if self.built else self.input_shape
        expected = None if per_sample is None else (None, *per_sample)
        self._store(*_moments(data, self.axis, expected))

    def call(self, x: torch.Tensor) -> torch.Tensor:
        x = as_float(x)
        shape = [x.shape[a] if a in self.kept else 1 for a in range(x.dim())]
        mean = self.mean.to(x.device, x.dtype).reshape(shape)
        # Keras divides by max(sqrt(variance), epsilon), epsilon = 1e-7.
        scale = self.variance.to(x.device, x.dtype).reshape(shape).sqrt().clamp_min(1e-7)
        return mean + x * scale if self.invert else (x - mean) / scale

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # The learned statistics go into the config too, so a saved model rebuilds (and runs
        # its dry run) before the weights are read back.
        if self.mean is not None:
            config.update(mean=self.mean.tolist(), variance=self.variance.tolist())
        elif self._given is not None:
            config.update(mean=self._given[0].tolist(), variance=self._given[1].tolist())
        return config

    def extra_repr(self) -> str:  # the statistics can be long: shown by their shape only
        shape = None if self.mean is None else tuple(self.mean.shape)
        return (
            f"axis={super().get_config()['axis']!r}, invert={self.invert}, statistics_shape={shape}"
        )

    def _store(self, mean: torch.Tensor, variance: torch.Tensor) -> None:
        device = self.mean.device if self.mean is not None else torch.device("cpu")
        self.mean = mean.to(device, torch.float32)
        self.variance = variance.to(device, torch.float32)


def _axes(axis: Any) -> tuple[int, ...]:
    if axis is None:
        return ()
    values = (axis,) if checks.is_int(axis) else axis
    if not isinstance(values, Iterable) or not all(checks.is_int(a) for a in values):
        raise ConfigError(
            f"expected an integer, a sequence of integers or None, received axis={axis!r}"
        )
    return tuple(int(a) for a in values)


def _broadcast(value: torch.Tensor, kept: tuple[int, ...], shape: tuple[int, ...]) -> torch.Tensor:
    """Keras' rule: a given mean's axes align with the kept axes from the right."""
    aligned = [1] * len(kept)
    for offset in range(1, value.dim() + 1):
        aligned[-offset] = value.shape[-offset]
    try:
        return value.reshape(aligned).expand(shape).clone()
    except RuntimeError:
        raise ShapeError(
            f"Normalization cannot broadcast a mean/variance of shape {tuple(value.shape)} to the "
            f"kept axes' shape {shape}. Fix: give one value per index of the kept axes."
        ) from None


def _kept_axes(
    axis: tuple[int, ...], shape: tuple[int | None, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes that keep their own statistics (batch axis included in the count, as in Keras)
    and their sizes, for inputs of full shape ``shape``."""
    rank = len(shape)
    if any(not -rank <= a < rank for a in axis):
        needed = max(a + 1 if a >= 0 else -a for a in axis)
        raise ShapeError(
            f"Normalization(axis={axis}) needs inputs of rank {needed} or more (the batch axis "
            f"counts), received rank {rank} (shape {shape}). Fix: pass data with those axes, "
            f"or choose axis among -{rank}..{rank - 1}."
        )
    kept = tuple(sorted({a % rank for a in axis}))
    if 0 in kept:
        raise ShapeError(
            f"Normalization(axis={axis}) would keep the batch axis of rank-{rank} inputs "
            f"(shape {shape}), giving each position in a batch its own statistics. Fix: pass "
            f"axis=None for one mean and variance, or reshape the data to (batch, 1)."
        )
    return kept, tuple(shape[a] for a in kept)


def _batches(data: Any) -> Iterator[torch.Tensor]:
    """``data`` as float64 batches: one array or tensor, or an iterable of batches."""
    if (
        hasattr(data, "shape")  # an array, a tensor, a numpy scalar
        or not isinstance(data, Iterable)
        or (isinstance(data, (list, tuple)) and data and not hasattr(data[0], "shape"))
    ):
        data = [data]
    for batch in data:
        if isinstance(batch, (tuple, list)) and batch and hasattr(batch[0], "shape"):
            batch = batch[0]  # an (x, y) batch
        if isinstance(batch, (int, float)):
            batch = np.float64(batch)  # a number: the rank-0 error below
        if not hasattr(batch, "shape"):
            raise DataError(
                f"Normalization.adapt takes an array, a tensor or an iterable of batches, "
                f"received a batch of type {type(batch).__name__}. Fix: pass np.asarray(data)."
            )
        if len(batch.shape) == 0:
            raise DataError(
                f"Normalization.adapt takes a batch of samples (rank 1 or more, the batch axis "
                f"first), received a scalar (rank 0): {batch!r}. Fix: pass an array of samples, "
                f"e.g. np.asarray([...]) of shape (batch, features)."
            )
        if isinstance(batch, torch.Tensor):
            yield batch.detach().to("cpu", torch.float64)
        else:
            yield torch.from_numpy(np.asarray(batch, dtype=np.float64))


def _moments(
    data: Any, axis: tuple[int, ...], expected: tuple[int | None, ...] | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance over all but the kept axes, combined across batches (Chan et
    al.'s pairwise update, in float64)."""
    count, mean, m2, kept, kept_shape, rank = 0, None, None, None, (), 0
    for batch in _batches(data):
        if kept is None:
            shape = expected if expected is not None else tuple(batch.shape)
            rank = len(shape)
            if batch.dim() == rank:
                kept, kept_shape = _kept_axes(axis, shape)
                kept_shape = tuple(
                    batch.shape[a] if s is None else s for a, s in zip(kept, kept_shape)
                )
        if batch.dim() != rank:
            layout = ", ".join(map(str, expected[1:])) if expected else "..."
            raise ShapeError(
                f"Normalization.adapt expects data of rank {rank}, shaped (batch, {layout}) like "
                f"the layer's inputs, received shape {tuple(batch.shape)} (rank {batch.dim()}). "
                f"Fix: reshape the data to rank {rank}, or adapt a new Normalization."
            )
        sizes = tuple(batch.shape[a] for a in kept)
        if sizes != kept_shape:
            raise ShapeError(
                f"Normalization.adapt received a batch of shape {tuple(batch.shape)} whose "
                f"kept axes {kept} have sizes {sizes}, expected {kept_shape}. Fix: give every "
                f"batch the same feature sizes as the layer's inputs."
            )
        reduce = [a for a in range(batch.dim()) if a not in kept]
        size = math.prod(batch.shape[a] for a in reduce)
        if size == 0:
            continue
        batch_mean = batch.mean(reduce, keepdim=True)
        batch_m2 = ((batch - batch_mean) ** 2).sum(reduce)
        batch_mean = batch_mean.reshape(batch_m2.shape)
        if mean is None:
            count, mean, m2 = size, batch_mean, batch_m2
            continue
        delta, total = batch_mean - mean, count + size
        mean = mean + delta * (size / total)
        m2 = m2 + batch_m2 + delta**2 * (count * size / total)
        count = total
    if mean is None:
        raise DataError("Normalization.adapt received no data. Fix: pass a non-empty batch.")
    variance = m2 / count
    if not (torch.isfinite(mean).all() and torch.isfinite(variance).all()):
        raise DataError("Normalization.adapt found NaN or inf in the data. Fix: clean the data.")
    return mean, variance
