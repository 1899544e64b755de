"""Weight penalties by Keras name: ``L1``, ``L2`` and ``L1L2``, each ``(weight) -> scalar tensor``.

Keras semantics: ``L2(0.01)(w) == 0.01 * (w ** 2).sum()`` (no factor 1/2). Layers return their
penalties from :meth:`~ember.layers.Layer.regularization_loss`; training adds them to the loss.

Example:
    >>> import torch
    >>> from ember.layers import regularizers
    >>> regularizers.get("l2")(torch.ones(3))
    tensor(0.0300)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError
from ember.registry import Registry

REGULARIZERS = Registry("regularizer")


class Regularizer:
    """Base class: ``regularizer(weight)`` returns a scalar penalty; ``get_config()`` rebuilds it.

    Example (a custom penalty)::

        class MaxNorm(Regularizer):
            def __call__(self, weight):
                return weight.abs().max()
    """

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _penalty(weight: torch.Tensor, l1: float, l2: float) -> torch.Tensor:
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``, skipping a zero term: shared by L1, L2 and L1L2."""
    penalty = weight.new_zeros(())
    if l1:
        penalty = penalty + l1 * weight.abs().sum()
    if l2:
        penalty = penalty + l2 * weight.square().sum()
    return penalty


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    Example:
        >>> L1L2(l1=0.1, l2=0.5)(torch.tensor([1.0, -2.0]))
        tensor(2.8000)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = checks.non_negative_number("l1", l1)
        self.l2 = checks.non_negative_number("l2", l2)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return _penalty(weight, self.l1, self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|w|)``, Keras default ``l1=0.01``.

    Example: ``Dense(8, kernel_regularizer=L1(1e-4))``.
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = checks.non_negative_number("l1", l1)
        self.l2 = 0.0  # read like L1L2's

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return _penalty(weight, self.l1, self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w ** 2)``, Keras default ``l2=0.01``.

    Example: ``Dense(8, kernel_regularizer=L2(1e-4))``.
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l1 = 0.0  # read like L1L2's
        self.l2 = checks.non_negative_number("l2", l2)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return _penalty(weight, self.l1, self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """The ``"l1_l2"`` shortcut: :class:`L1L2` with Keras' shortcut defaults (0.01 each)."""
    return L1L2(l1=l1, l2=l2)


# Keras 3 exports the classes under snake-case names too: ``regularizers.l2(1e-4)``. (``l1_l2``
# stays a function above: its defaults are 0.01 each, where Keras 3's alias of L1L2 has 0.0.)
l1, l2 = L1, L2

REGULARIZERS.add("l1", L1)
REGULARIZERS.add("l2", L2)
# "l1_l2" and "L1L2" normalise to one key; a serialized L1L2 always carries both values.
REGULARIZERS.add("l1_l2", l1_l2)


def get(spec: str | dict | Regularizer | Callable | None) -> Callable[[torch.Tensor], Any] | None:
    """A regularizer from ``"l1"``/``"l2"``/``"l1_l2"``, a dict, an instance or a function.

    Example:
        >>> get("l1_l2")  # Keras 2's shortcut
        L1L2(l1=0.01, l2=0.01)
        >>> get("L1L2")  # Keras 3's class by name, with its defaults
        L1L2(l1=0.0, l2=0.0)
        >>> get({"class_name": "L2", "config": {"l2": 0.001}})
        L2(l2=0.001)
    """
    # The registry reads "l1_l2" and "L1L2" alike; only the shortcut spelling keeps 0.01 each.
    if isinstance(spec, str) and spec.lower() == "l1l2":
        return L1L2()
    return REGULARIZERS.resolve(
        spec,
        Regularizer,
        "'l1', 'l2', 'l1_l2', a dict, a Regularizer or a function of a tensor",
    )


def deserialize(config: str | dict) -> Callable[[torch.Tensor], Any] | None:
    """Keras' ``deserialize``: the regularizer a name or ``{"class_name", "config"}`` describes.

    Example:
        >>> deserialize({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.1}})
        L1L2(l1=0.0, l2=0.1)
    """
    return get(config)


def serialize(regularizer: str | Regularizer) -> str | dict[str, Any]:
    """``{"class_name", "config"}`` for an instance, a name as is; :func:`get` inverts it.

    Example:
        >>> serialize(L2(0.001))
        {'class_name': 'L2', 'config': {'l2': 0.001}}
    """
    if isinstance(regularizer, str):
        return regularizer
    if not isinstance(regularizer, Regularizer) or type(regularizer).__name__ not in REGULARIZERS:
        raise ConfigError(
            f"only names and L1/L2/L1L2 instances can be serialized, received {regularizer!r}"
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
