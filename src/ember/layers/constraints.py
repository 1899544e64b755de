"""Weight constraints by Keras name: ``MaxNorm``, ``NonNeg``, ``UnitNorm`` and ``MinMaxNorm``.

A constraint maps a weight to its projection (``constraint(weight) -> weight``). Layers take them
as ``kernel_constraint=``/``bias_constraint=`` (``embeddings_constraint=``, ``alpha_constraint=``),
and the training engine projects the weights after every optimizer step, as Keras does
(:func:`constraint_step`).

A constraint's ``axis`` means what Keras documents for Keras' kernel layouts: a Dense kernel is
``(in, out)`` and a Conv2D kernel ``(rows, cols, in, out)``, so ``MaxNorm(axis=0)`` bounds the
weights into each Dense unit. ember stores torch layouts (Dense ``(out, in)``, Conv2D
``(out, in, rows, cols)``); :func:`constraint_step` hands each constraint a view of the weight in
Keras' layout, so the numbers equal Keras'.

Example:
    >>> import torch
    >>> from ember.layers import constraints
    >>> constraints.get("non_neg")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> constraints.serialize(constraints.MaxNorm(3.0))
    {'class_name': 'MaxNorm', 'config': {'max_value': 3.0, 'axis': 0}}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.registry import Registry

CONSTRAINTS = Registry("constraint")
_EPSILON = 1e-7  # Keras' backend.epsilon(), which its constraints add to every norm
Axis = int | Sequence[int]


class Constraint:
    """Base class: ``constraint(weight)`` returns the projected weight; ``get_config()`` rebuilds it.

    The base class leaves the weight as it is. Example (a custom constraint)::

        class Clip(Constraint):
            def __call__(self, weight):
                return weight.clamp(-1.0, 1.0)
    """

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return weight

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _axis(value: Any) -> Axis:
    """An axis or a list of axes, as Keras takes them; returned as given (for get_config)."""
    axes = value if isinstance(value, (list, tuple)) else [value]
    if not axes or not all(checks.is_int(a) for a in axes):
        raise ConfigError(
            f"expected an integer axis or a list of them, received axis={value!r}. Fix: e.g. "
            f"axis=0 for a Dense kernel (in, out), axis=[0, 1, 2] for a Conv2D kernel."
        )
    return value


def _norms(weight: torch.Tensor, axis: Axis) -> torch.Tensor:
    """The L2 norms of ``weight`` over ``axis``, kept as size-1 axes (Keras' keepdims)."""
    dims = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return weight.square().sum(dim=dims, keepdim=True).sqrt()


class MaxNorm(Constraint):
    """Rescales each slice whose L2 norm over ``axis`` exceeds ``max_value`` down to it.

    Example:
        >>> MaxNorm(max_value=1.0, axis=0)(torch.tensor([[3.0], [4.0]])).flatten()
        tensor([0.6000, 0.8000])
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = checks.positive_number("max_value", max_value)
        self.axis = _axis(axis)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        norms = _norms(weight, self.axis)
        return weight * (norms.clamp(0, self.max_value) / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example:
        >>> NonNeg()(torch.tensor([-0.5, 0.5]))
        tensor([0.0000, 0.5000])
    """

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.clamp(min=0)


class UnitNorm(Constraint):
    """Divides each slice by its L2 norm over ``axis``.

    Example:
        >>> UnitNorm(axis=0)(torch.tensor([[3.0], [4.0]])).flatten()
        tensor([0.6000, 0.8000])
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = _axis(axis)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return weight / (_EPSILON + _norms(weight, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm over ``axis`` towards ``[min_value, max_value]``: to
    ``(1 - rate) * norm + rate * clip(norm, min_value, max_value)``.

    Example:
        >>> MinMaxNorm(min_value=1.0, max_value=2.0)(torch.tensor([[0.3], [0.4]])).flatten()
        tensor([0.6000, 0.8000])
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        self.min_value = checks.non_negative_number("min_value", min_value)
        self.max_value = checks.number("max_value", max_value)
        if self.max_value < self.min_value:
            raise ConfigError(
                f"expected max_value >= min_value, received min_value={min_value!r}, "
                f"max_value={max_value!r}"
            )
        self.rate = checks.number_in("rate", rate, 0, 1, closed="[]")
        self.axis = _axis(axis)

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        norms = _norms(weight, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return weight * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


for _class in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm):
    CONSTRAINTS.add(_class.__name__, _class)  # "max_norm" normalises to the same key
# Keras exports the classes under snake-case names too: ``constraints.max_norm(2.0)``.
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm


def get(spec: str | dict | Constraint | Callable | None) -> Callable[[torch.Tensor], Any] | None:
    """A constraint from a name (``"max_norm"``), a dict, a class, an instance or a function.

    Example:
        >>> get("unit_norm")
        UnitNorm(axis=0)
        >>> get({"class_name": "MaxNorm", "config": {"max_value": 3}})
        MaxNorm(max_value=3.0, axis=0)
    """
    if isinstance(spec, type) and issubclass(spec, Constraint):
        return spec()  # Keras accepts the class itself
    return CONSTRAINTS.resolve(
        spec,
        Constraint,
        "a name such as 'max_norm', a dict, a Constraint or a function of a tensor",
    )


def deserialize(config: str | dict) -> Callable[[torch.Tensor], Any] | None:
    """Keras' ``deserialize``: the constraint a name or ``{"class_name", "config"}`` describes.

    Example:
        >>> deserialize({"class_name": "NonNeg", "config": {}})
        NonNeg()
    """
    return get(config)


def serialize(constraint: str | Constraint) -> str | dict[str, Any]:
    """``{"class_name", "config"}`` for an instance, a name as is; :func:`get` inverts it.

    Example:
        >>> serialize(UnitNorm(axis=[0, 1, 2]))
        {'class_name': 'UnitNorm', 'config': {'axis': [0, 1, 2]}}
    """
    if isinstance(constraint, str):
        return constraint
    if not isinstance(constraint, Constraint) or type(constraint).__name__ not in CONSTRAINTS:
        raise ConfigError(
            f"only names and MaxNorm/NonNeg/UnitNorm/MinMaxNorm instances can be serialized, "
            f"received {constraint!r}"
        )
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def names() -> list[str]:
    """Every constraint name :func:`get` accepts."""
    return CONSTRAINTS.names()


# -- applying constraints after an optimizer step -----------------------------------------------
def _keras_kernel(weight: torch.Tensor) -> torch.Tensor:
    """A torch kernel ``(a, b, *window)`` as Keras' ``(*window, b, a)``, a view: Dense (out, in)
    -> (in, out); ConvNd (out, in, *window) -> (*window, in, out); Conv2DTranspose
    (in, out, *window) -> (*window, out, in), each Keras' own layout."""
    return weight.permute(*range(2, weight.dim()), 1, 0)


def _as_is(weight: torch.Tensor) -> torch.Tensor:
    return weight  # biases, embedding tables (input_dim, output_dim), PReLU's alpha


# Which constraint attribute of a layer constrains which parameter, and the view of that
# parameter in Keras' layout the constraint sees.
_TARGETS = (
    ("kernel_constraint", "weight", _keras_kernel),
    ("bias_constraint", "bias", _as_is),
    ("embeddings_constraint", "weight", _as_is),
    ("alpha_constraint", "alpha", _as_is),
)


def constraint_step(
    module: nn.Module, parameters: Sequence[torch.Tensor] | None = None
) -> Callable[[], None] | None:
    """The function projecting every constrained weight of ``module``'s layers in place, or None
    when no layer has a constraint (the engine then does nothing per step).

    Only weights in ``parameters`` (default: every parameter that trains) are constrained, as
    Keras constrains the variables its optimizer updates. Called once when the optimizers are
    built; the returned function is called after every optimizer step.

    Example:
        >>> from ember.layers import Dense
        >>> layer = Dense(2, kernel_constraint=MaxNorm(1.0))
        >>> _ = layer(torch.ones(1, 3))
        >>> with torch.no_grad():
        ...     _ = layer.weight.mul_(10)
        >>> constraint_step(layer)()
        >>> bool((layer.weight.norm(dim=1) <= 1.0 + 1e-6).all())  # each unit's incoming weights
        True
    """
    if parameters is None:
        parameters = [p for p in module.parameters() if p.requires_grad]
    trained = {id(p) for p in parameters}
    targets = []
    for layer in module.modules():
        for attribute, name, view in _TARGETS:
            constraint = getattr(layer, attribute, None)
            parameter = getattr(layer, name, None)
            if constraint is not None and parameter is not None and id(parameter) in trained:
                targets.append((layer, name, view, constraint))
    if not targets:
        return None

    @torch.no_grad()
    def project() -> None:
        for layer, name, view, constraint in targets:
            # Read per call: loading weights may give a layer new parameter tensors.
            keras_view = view(getattr(layer, name))
            keras_view.copy_(constraint(keras_view))

    return project
