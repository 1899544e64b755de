"""Merge layers: called on a list of tensors, as in Keras (``Add()([a, b])`` or ``add([a, b])``).

The element-wise merges (``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``) follow Keras' broadcasting: per-sample shapes are aligned at their last axis and each
size must be equal or 1; an input of lower rank gets size-1 axes after its batch axis (a
``(N, 3)`` input merges with a ``(N, 4, 3)`` one as ``(N, 1, 3)``). ``Concatenate`` joins inputs
that match except along ``axis``; ``Dot`` contracts one axis of each of two inputs, per sample.
Keras' masks are not merged (ember's masks travel through ``Sequential``, where a merge cannot
stand).

Example:
    >>> import torch
    >>> from ember import layers
    >>> a, b = torch.ones(2, 3), torch.full((2, 3), 2.0)
    >>> layers.add([a, b])
    tensor([[3., 3., 3.],
            [3., 3., 3.]])
    >>> layers.Concatenate(axis=1)([a, b]).shape
    torch.Size([2, 6])
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.layers.base import Layer
from ember.layers.registry import LAYERS

Shape = tuple[int, ...]


def _shapes(layer: Layer, inputs: Any, count: int | None = None) -> list[Shape]:
    """The per-sample shapes of ``inputs``, checked to be a list of ``count`` (default: at
    least one) batched tensors of one batch size."""
    name = type(layer).__name__
    wanted = f"{count} tensors" if count else "tensors"
    if not isinstance(inputs, (list, tuple)) or not all(
        isinstance(x, torch.Tensor) and x.dim() >= 1 for x in inputs
    ):
        received = (
            f"a tensor of shape {tuple(inputs.shape)}"
            if isinstance(inputs, torch.Tensor)
            else repr(inputs)[:80]
        )
        raise DataError(
            f"{name} is called on a list of {wanted} (each with a batch axis), received "
            f"{received}. Fix: pass a list, e.g. {name}(...)([a, b])."
        )
    if (count and len(inputs) != count) or not inputs:
        raise DataError(
            f"{name} is called on a list of {wanted}, received {len(inputs)}. Fix: pass "
            f"{'exactly ' + str(count) if count else 'at least one'}, e.g. {name}(...)([a, b])."
        )
    batches = [x.shape[0] for x in inputs]
    if len(set(batches)) > 1:
        raise ShapeError(
            f"{name} cannot merge tensors of different batch sizes, received shapes "
            f"{_listing(inputs)}. Fix: give every input the same number of samples."
        )
    return [tuple(x.shape[1:]) for x in inputs]


def _ones(merged: Shape, shape: Shape) -> Shape:
    """``shape`` with size-1 axes in front, up to the rank of ``merged``."""
    return (*(1,) * (len(merged) - len(shape)), *shape)


def _listing(inputs: Any) -> str:
    return ", ".join(str(tuple(x.shape)) for x in inputs)


class _Merge(Layer):
    """A layer called on a list of tensors: builds from their shapes, holds no weights."""

    inputs_count: int | None = None  # exactly this many inputs (Subtract, Dot), else >= 1

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)

    def build_from_input(self, inputs: list[torch.Tensor]) -> None:
        # Keras builds a merge from the list of input shapes; there is nothing to create.
        self.built_input_shape = _shapes(self, inputs, self.inputs_count)
        self.built = True


class _ElementwiseMerge(_Merge):
    """An element-wise merge under Keras' broadcasting (see the module docs)."""

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        shapes = _shapes(self, inputs, self.inputs_count)
        merged = shapes[0]
        for shape in shapes[1:]:
            merged = self._broadcast(merged, shape, inputs)
        # Keras inserts a lower-rank input's missing axes after the batch axis.
        aligned = [
            x if len(shape) == len(merged) else x.reshape(x.shape[0], *_ones(merged, shape))
            for x, shape in zip(inputs, shapes)
        ]
        return self.merge(aligned)

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _broadcast(self, first: Shape, second: Shape, inputs: list[torch.Tensor]) -> Shape:
        """Keras' per-sample broadcast of two shapes, or a ShapeError naming every shape."""
        longer, shorter = (first, second) if len(first) >= len(second) else (second, first)
        lead = longer[: len(longer) - len(shorter)]
        tail = longer[len(longer) - len(shorter) :]
        for a, b in zip(tail, shorter):
            if a != b and 1 not in (a, b):
                raise ShapeError(
                    f"{type(self).__name__} cannot merge inputs of shapes {_listing(inputs)}: "
                    f"per-sample shapes {first} and {second} differ ({a} against {b}), and "
                    f"Keras merges only sizes that are equal or 1. Fix: make the shapes equal "
                    f"(e.g. a Dense({max(a, b)}) or a Reshape before the merge), or join them "
                    f"with Concatenate."
                )
        return (*lead, *(max(a, b) if 1 in (a, b) else a for a, b in zip(tail, shorter)))


@LAYERS.register()
class Add(_ElementwiseMerge):
    """The sum of its inputs. Example: ``Add()([a, b])``, or :func:`add`."""

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(torch.add, inputs)


@LAYERS.register()
class Subtract(_ElementwiseMerge):
    """``inputs[0] - inputs[1]`` (exactly two inputs). Example: ``Subtract()([a, b])``."""

    inputs_count = 2

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return inputs[0] - inputs[1]


@LAYERS.register()
class Multiply(_ElementwiseMerge):
    """The element-wise product of its inputs. Example: ``Multiply()([a, b])``."""

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(torch.mul, inputs)


@LAYERS.register()
class Average(_ElementwiseMerge):
    """The element-wise mean of its inputs. Example: ``Average()([a, b, c])``."""

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(torch.add, inputs) / len(inputs)


@LAYERS.register()
class Maximum(_ElementwiseMerge):
    """The element-wise maximum of its inputs. Example: ``Maximum()([a, b])``."""

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(torch.maximum, inputs)


@LAYERS.register()
class Minimum(_ElementwiseMerge):
    """The element-wise minimum of its inputs. Example: ``Minimum()([a, b])``."""

    def merge(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(torch.minimum, inputs)


@LAYERS.register()
class Concatenate(_Merge):
    """Joins its inputs along ``axis`` (counting the batch axis, as Keras: -1 is the last);
    they must match on every other axis.

    Example:
        >>> Concatenate()([torch.zeros(2, 5, 3), torch.zeros(2, 5, 4)]).shape
        torch.Size([2, 5, 7])
    """

    def __init__(self, axis: int = -1, name: str | None = None) -> None:
        super().__init__(name=name)
        if not checks.is_int(axis):
            raise ConfigError(f"expected an integer axis, received axis={axis!r}")
        self.axis = int(axis)

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        _shapes(self, inputs)
        rank = inputs[0].dim()
        axis = self.axis % rank if -rank <= self.axis < rank else None
        others = {tuple(s for i, s in enumerate(x.shape) if i != axis) for x in inputs}
        if axis is None or len({x.dim() for x in inputs}) > 1 or len(others) > 1:
            raise ShapeError(
                f"Concatenate(axis={self.axis}) needs inputs of one rank that match on every "
                f"axis but axis {self.axis}, received shapes {_listing(inputs)}. Fix: reshape "
                f"the inputs to match, or choose the axis on which they differ."
            )
        return torch.cat(inputs, dim=axis)


@LAYERS.register()
class Dot(_Merge):
    """The per-sample dot product of two inputs over ``axes`` (one axis, or one per input,
    counting the batch axis, which cannot be one of them); ``normalize=True`` L2-normalises both
    first, giving the cosine similarity. The output keeps the first input's other axes, then the
    second's; two vectors per sample give ``(N, 1)``.

    Example:
        >>> Dot(axes=(1, 2))([torch.ones(1, 5, 2), torch.ones(1, 2, 5)]).shape
        torch.Size([1, 2, 2])
    """

    inputs_count = 2

    def __init__(
        self, axes: int | tuple[int, int], normalize: bool = False, name: str | None = None
    ) -> None:
        super().__init__(name=name)
        pair = (axes, axes) if checks.is_int(axes) else axes
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(checks.is_int(a) for a in pair)
            or 0 in pair
        ):
            raise ConfigError(
                f"expected axes to be a non-zero integer or two of them (axis 0 is the batch), "
                f"received axes={axes!r}. Fix: e.g. axes=-1, or axes=(1, 2)."
            )
        self.axes = axes
        self.normalize = bool(normalize)

    def call(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        _shapes(self, inputs, 2)
        x, y = inputs
        pair = (self.axes, self.axes) if checks.is_int(self.axes) else self.axes
        axes = [a % t.dim() if -t.dim() <= a < t.dim() else None for a, t in zip(pair, inputs)]
        if min(x.dim(), y.dim()) < 2 or 0 in axes or None in axes:
            raise ShapeError(
                f"Dot(axes={self.axes}) cannot contract inputs of shapes {_listing(inputs)}: "
                f"each needs the axis it names, and it may not be the batch axis. Fix: choose "
                f"axes within both inputs' ranks, or reshape the inputs."
            )
        if x.shape[axes[0]] != y.shape[axes[1]]:
            raise ShapeError(
                f"Dot(axes={self.axes}) contracts sizes that differ: {x.shape[axes[0]]} (axis "
                f"{axes[0]} of shape {tuple(x.shape)}) and {y.shape[axes[1]]} (axis {axes[1]} "
                f"of shape {tuple(y.shape)}). Fix: choose axes of equal size."
            )
        if self.normalize:
            x, y = _l2_normalize(x, axes[0]), _l2_normalize(y, axes[1])
        x = x.movedim(axes[0], -1)  # (N, *x_rest, K)
        y = y.movedim(axes[1], 1)  # (N, K, *y_rest)
        batch, size = x.shape[0], x.shape[-1]
        product = torch.bmm(x.reshape(batch, -1, size), y.reshape(batch, size, -1))
        output = product.reshape(batch, *x.shape[1:-1], *y.shape[2:])
        return output.unsqueeze(1) if output.dim() == 1 else output  # Keras: (N, 1)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    """Keras' ``normalize``: ``x * min(rsqrt(sum(x²)), 1 / 1e-7)``."""
    return x * torch.rsqrt(x.square().sum(dim=axis, keepdim=True)).clamp(max=1e7)


# -- Keras' functional forms: layers.add([a, b]) is Add()([a, b]) ---------------------------------
def add(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Add()(inputs)``: the sum. Example: ``layers.add([a, b])``."""
    return Add(name=name)(inputs)


def subtract(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Subtract()(inputs)``: ``inputs[0] - inputs[1]``. Example: ``layers.subtract([a, b])``."""
    return Subtract(name=name)(inputs)


def multiply(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Multiply()(inputs)``: the product. Example: ``layers.multiply([a, b])``."""
    return Multiply(name=name)(inputs)


def average(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Average()(inputs)``: the mean. Example: ``layers.average([a, b])``."""
    return Average(name=name)(inputs)


def maximum(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Maximum()(inputs)``. Example: ``layers.maximum([a, b])``."""
    return Maximum(name=name)(inputs)


def minimum(inputs: list[Any], name: str | None = None) -> torch.Tensor:
    """``Minimum()(inputs)``. Example: ``layers.minimum([a, b])``."""
    return Minimum(name=name)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, name: str | None = None) -> torch.Tensor:
    """``Concatenate(axis)(inputs)``. Example: ``layers.concatenate([a, b], axis=1)``."""
    return Concatenate(axis=axis, name=name)(inputs)


def dot(
    inputs: list[Any],
    axes: int | tuple[int, int] = -1,
    normalize: bool = False,
    name: str | None = None,
) -> torch.Tensor:
    """``Dot(axes, normalize)(inputs)``. Example: ``layers.dot([a, b], axes=1)``."""
    return Dot(axes=axes, normalize=normalize, name=name)(inputs)
