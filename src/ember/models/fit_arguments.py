"""Checks and splits of ``Model.fit`` / ``evaluate`` / ``predict`` arguments, Keras' rules.

Each raises a :class:`ConfigError` or :class:`DataError` naming the argument, before any work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ember import checks
from ember.data.batches import TensorBatches, as_batches, is_in_memory
from ember.data.structure import is_array_structure, leaves, map_structure, num_samples
from ember.errors import ConfigError, DataError


def batch_size_or_default(batch_size: int | None) -> int:
    """``batch_size``, or Keras' 32 when None; a positive integer.

    Example:
        >>> batch_size_or_default(None)
        32
    """
    if batch_size is None:
        return 32
    return checks.positive_int("batch_size", batch_size)


def check_epochs(epochs: int, initial_epoch: int) -> None:
    """``epochs`` >= 0 and ``0 <= initial_epoch <= epochs``."""
    checks.non_negative_int("epochs", epochs)
    if not isinstance(initial_epoch, int) or not 0 <= initial_epoch <= epochs:
        raise ConfigError(
            f"initial_epoch must be between 0 and epochs={epochs}, received "
            f"initial_epoch={initial_epoch!r} (fit runs epochs initial_epoch+1 .. epochs)."
        )


def verbosity(verbose: int | str) -> int:
    """Keras' ``verbose``: "auto" is 1; else 0, 1 or 2."""
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ConfigError(f"verbose must be 'auto', 0, 1 or 2, received verbose={verbose!r}")
    return int(verbose)


def check_class_weight(class_weight: Any) -> None:
    """A non-empty ``{class index: weight}`` with indices and weights >= 0."""
    if not isinstance(class_weight, Mapping) or not class_weight:
        raise ConfigError(
            f"class_weight must be a dict {{class index: weight}}, received {class_weight!r}"
        )
    for index, weight in class_weight.items():
        if int(index) < 0 or not float(weight) >= 0:
            raise ConfigError(
                f"class_weight needs class indices >= 0 and weights >= 0, received "
                f"{index!r}: {weight!r}"
            )


def split_last(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple[tuple, tuple]:
    """Keras' ``validation_split``: the last ``fraction`` of the samples, unshuffled.

    Example:
        >>> split_last(list(range(10)), None, None, 0.2)[1]
        ([8, 9], None, None)
    """
    if not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ConfigError(
            f"validation_split must be a fraction between 0 and 1, received {fraction!r}"
        )

    def in_memory(a: Any) -> bool:  # several inputs/outputs: a list or dict of arrays
        return is_array_structure(a) or is_in_memory(a)

    if not in_memory(x) or (y is not None and not in_memory(y)):
        raise ConfigError(
            "validation_split only works with arrays or tensors. Fix: pass "
            "validation_data=(x_val, y_val) or a separate validation Dataset."
        )
    n = num_samples(x) if is_array_structure(x) else len(x)
    split = n - int(n * fraction)
    if split <= 0 or split >= n:
        raise DataError(
            f"validation_split={fraction} leaves no {'training' if split <= 0 else 'validation'} "
            f"samples out of {n}. Fix: use more data or another fraction."
        )

    def head(a: Any) -> Any:
        if is_array_structure(a):
            return map_structure(lambda t: t[:split], a)
        return None if a is None else a[:split]

    def tail(a: Any) -> Any:
        if is_array_structure(a):
            return map_structure(lambda t: t[split:], a)
        return None if a is None else a[split:]

    return (head(x), head(y), head(sample_weight)), (tail(x), tail(y), tail(sample_weight))


def unpack_validation(data: Any) -> tuple[Any, Any, Any]:
    """``validation_data`` as ``(x, y, sample_weight)``; a Dataset or loader passes as ``x``."""
    if (
        isinstance(data, (tuple, list))
        and len(data) in (2, 3)
        and (is_in_memory(data[0]) or is_array_structure(data[0]))
    ):
        return (data[0], data[1], data[2] if len(data) == 3 else None)
    return data, None, None


def batches_of(
    x: Any, y: Any, batch_size: int, shuffle: bool, sample_weight: Any, device: Any
) -> Any:
    """What ``fit``/``evaluate``/``predict`` iterate: ``x`` (and ``y``) as batches on ``device``."""
    if x is None:
        raise DataError("no data: pass x (and y). Example: model.fit(x_train, y_train)")
    return as_batches(
        x, y, batch_size=batch_size, shuffle=shuffle, device=device, sample_weight=sample_weight
    )


def batches_for(
    model: Any,
    x: Any,
    y: Any,
    batch_size: int,
    shuffle: bool,
    sample_weight: Any,
    device: Any,
) -> Any:
    """:func:`batches_of`, noting the per-sample input shape of in-memory data on ``model``
    (``seen_input_shape``, which ``summary()`` uses for a wrapped module)."""
    batches = batches_of(x, y, batch_size, shuffle, sample_weight, device)
    if isinstance(batches, TensorBatches):
        first = leaves(batches.tensors[0])[0]
        model.seen_input_shape = tuple(first.shape[1:])
    return batches
