"""How a Keras model is called: shapes for ``build``, the ``training`` argument, step data and
callbacks, as Keras reads them.

Example:
    >>> per_sample_shape((None, 28, 28)), as_batch([1, 2])
    ((28, 28), (1, 2))
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from ember.errors import ConfigError


def per_sample_shape(shape: Any) -> tuple[int | None, ...]:
    """The per-sample part of a Keras shape: ``(None, 28, 28)`` -> ``(28, 28)``; a shape that
    does not start with None is taken as per-sample already. Later Nones (a sequence length)
    stay.

    Example:
        >>> per_sample_shape((None, 28, 28)), per_sample_shape((28, 28)), per_sample_shape(4)
        ((28, 28), (28, 28), (4,))
    """
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise ConfigError(
            f"expected a shape such as (None, 28, 28), received {shape!r}. Fix: pass a tuple "
            f"of sizes, the batch size first as None."
        )
    shape = tuple(shape)
    if shape and shape[0] is None:
        shape = shape[1:]
    for size in shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ConfigError(
                f"a shape holds positive integers (or None for a size known only at run time), "
                f"received {shape!r}. Fix: e.g. (None, 28, 28)."
            )
    return shape


_TAKES_TRAINING: dict[type, bool] = {}


def takes_training(cls: type) -> bool:
    """Whether ``cls.call`` has a ``training`` parameter (looked up once per class)."""
    if cls not in _TAKES_TRAINING:
        call = getattr(cls, "call", None)
        _TAKES_TRAINING[cls] = call is not None and "training" in inspect.signature(call).parameters
    return _TAKES_TRAINING[cls]


def as_batch(data: Any) -> tuple:
    """``train_step``'s ``data`` as the engine's batch tuple."""
    return tuple(data) if isinstance(data, (tuple, list)) else (data,)


def with_model(callbacks: Sequence[Any] | None, model: Any) -> list[Any]:
    """``callbacks``, each told the Keras model it serves (``callback.set_model``), as in Keras:
    a ``ModelCheckpoint`` then saves the whole model, not only the network's weights."""
    callbacks = list(callbacks or [])
    for callback in callbacks:
        if hasattr(callback, "set_model"):
            callback.set_model(model)
    return callbacks
