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

import torch
from torch import nn

from ember.errors import ConfigError
from ember.layers.base import reset_states
from ember.models.devices import device_of


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


def build_with_zeros(model: nn.Module, input_shape: Any) -> None:
    """Keras' ``model.build(shape)``: run zeros of that shape through ``model`` once (eval mode,
    no gradients), creating its lazy weights; a None size is built with 5. A list of shapes
    builds a model with several inputs."""
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    sizes = [[5 if s is None else s for s in per_sample_shape(shape)] for shape in shapes]
    examples = [torch.zeros(2, *size, device=device_of(model)) for size in sizes]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(examples if isinstance(input_shape, list) else examples[0])
    finally:
        model.train(was_training)
        reset_states(model)


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def functional_subclass(cls: type, functional: type) -> type:
    """``cls`` (a Model subclass) combined with the ``functional`` model class, once per class:
    its methods (``train_step``...) over a graph drawn from ``inputs`` and ``outputs``, which is
    what Keras makes of ``CustomModel(inputs, outputs)``."""
    if cls not in _FUNCTIONAL_SUBCLASSES:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, functional), namespace)
    return _FUNCTIONAL_SUBCLASSES[cls]
