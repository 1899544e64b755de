"""Symbolic tensors for Keras' functional API: ``Input(shape)`` and layers called on it.

Calling a layer (or a model) on a :class:`KerasTensor` records a :class:`Node` instead of
computing: ``x = Dense(64)(Input(shape=(784,)))`` is a graph edge, and ``ember.Model(inputs,
outputs)`` runs the graph (:mod:`ember.models.functional`). Each symbolic tensor carries a
small real *example* (two samples, zeros) that the layer is run on once, so layers build their
weights and every output shape is known when the graph is drawn, as in Keras. Torch functions
called on symbolic tensors (``torch.relu(x)``, ``x + y``, ``ember.ops.mean(x, axis=1)``) are
recorded too (see :meth:`KerasTensor.__torch_function__`).

Example:
    >>> from ember import layers
    >>> x = Input(shape=(None, 16))
    >>> y = layers.Dense(4)(x)
    >>> y.shape
    (None, None, 4)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError

# Sizes given to None dimensions in the two example runs: a dimension of the output whose size
# differs between the runs depends on a None of the input, and is None itself.
_EXAMPLE_BATCH = 2
_FREE_SIZES = (64, 80)  # long enough for strided stacks (two Conv1D(7, strides=3))
_ids = itertools.count()


class Node:
    """One call recorded in a functional graph: ``layer(*args, **kwargs)`` -> ``outputs``.

    ``args``/``kwargs`` keep their structure with :class:`KerasTensor` leaves; ``outputs`` is
    the call's result with KerasTensor leaves.
    """

    def __init__(self, layer: Callable, args: tuple, kwargs: dict, outputs: Any) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs

    def input_tensors(self) -> list[KerasTensor]:
        """The symbolic tensors this call reads, in argument order."""
        return flatten((self.args, self.kwargs))

    def output_tensors(self) -> list[KerasTensor]:
        return flatten(self.outputs)


class KerasTensor:
    """A symbolic tensor: a shape with ``None`` for sizes known only at run time, a dtype, and
    the :class:`Node` that made it (``None`` for an ``Input``).

    Example:
        >>> Input(shape=(28, 28), name="pixels")
        <KerasTensor shape=(None, 28, 28), dtype=float32, name=pixels>
    """

    def __init__(
        self,
        shape: tuple[int | None, ...],
        dtype: torch.dtype,
        examples: tuple[torch.Tensor, ...],
        node: Node | None = None,
        name: str | None = None,
    ) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.examples = examples  # one real tensor per example run (two when a size is None)
        self.node = node
        self.id = next(_ids)
        self.name = name or f"keras_tensor_{self.id}"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        dtype = str(self.dtype).replace("torch.", "")
        return f"<KerasTensor shape={self.shape}, dtype={dtype}, name={self.name}>"

    def __len__(self) -> int:
        raise TypeError(
            "a symbolic tensor has no length: its batch size is known only at run time. "
            "Use x.shape[1:] for the per-sample shape."
        )

    def __iter__(self) -> Any:
        raise TypeError(
            "a symbolic tensor cannot be iterated: its batch size is known only at run time. "
            "Fix: index it (x[:, 0]) or split it with a layer."
        )

    def __bool__(self) -> bool:
        raise TypeError(
            "a symbolic tensor has no truth value while the model is being drawn. Fix: move "
            "the condition into a layer's call(), where inputs are real tensors."
        )

    # Torch functions and Python operators on symbolic tensors become graph nodes, so that
    # ``x = x + y`` or ``torch.relu(x)`` work in a functional model as ``keras.ops`` do in Keras.
    @classmethod
    def __torch_function__(
        cls, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        return call_symbolic(TorchFunction(func), args, kwargs or {})

    def _operator(name: str, reflected: bool = False) -> Callable:  # noqa: N805 (class-body helper)
        function = getattr(torch.Tensor, name)

        def apply(self: KerasTensor, other: Any) -> Any:
            args = (other, self) if reflected else (self, other)
            return call_symbolic(TorchFunction(function), args, {})

        return apply

    __add__ = _operator("__add__")
    __radd__ = _operator("__add__", reflected=True)
    __sub__ = _operator("__sub__")
    __rsub__ = _operator("__sub__", reflected=True)
    __mul__ = _operator("__mul__")
    __rmul__ = _operator("__mul__", reflected=True)
    __truediv__ = _operator("__truediv__")
    __rtruediv__ = _operator("__truediv__", reflected=True)
    __matmul__ = _operator("__matmul__")
    __pow__ = _operator("__pow__")
    __getitem__ = _operator("__getitem__")
    del _operator

    def __neg__(self) -> Any:
        return call_symbolic(TorchFunction(torch.neg), (self,), {})


class TorchFunction(nn.Module):
    """A torch function recorded in a functional graph (``torch.relu(x)``, ``x + y``)."""

    def __init__(self, function: Callable) -> None:
        super().__init__()
        self.function = function
        self.name = getattr(function, "__name__", "function").strip("_")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def Input(  # noqa: N802 (Keras' name)
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    dtype: Any = None,
    name: str | None = None,
    *,
    batch_shape: Sequence[int | None] | None = None,
) -> KerasTensor:
    """The start of a functional model: a symbolic batch of per-sample ``shape``.

    ``None`` marks a size known only at run time (a sequence length, an image side). ``dtype``
    ``"int32"``/``"int64"`` is for token ids (an ``Embedding`` next).

    Example:
        >>> from ember import layers
        >>> tokens = Input(shape=(None,), dtype="int64")
        >>> layers.Embedding(100, 8)(tokens).shape
        (None, None, 8)
    """
    if batch_shape is not None:
        if shape is not None:
            raise ConfigError("pass Input either shape=... or batch_shape=..., not both.")
        batch_shape = tuple(batch_shape)
        if not batch_shape:
            raise ConfigError("Input(batch_shape=...) needs at least the batch dimension.")
        batch_size, shape = batch_shape[0], batch_shape[1:]
    if shape is None:
        raise ConfigError("Input needs a shape. Example: Input(shape=(28, 28)) for 28x28 images.")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    for size in shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ConfigError(
                f"Input shape sizes must be positive integers or None, received shape={shape}. "
                f"Fix: e.g. Input(shape=(28, 28)), or None for a size known only at run time."
            )
    torch_dtype = as_torch_dtype(dtype)
    sizes = [[s if s is not None else free for s in shape] for free in _free_sizes(shape)]
    examples = tuple(torch.zeros(_EXAMPLE_BATCH, *size, dtype=torch_dtype) for size in sizes)
    return KerasTensor((batch_size, *shape), torch_dtype, examples, name=name)


def as_torch_dtype(dtype: Any) -> torch.dtype:
    """A torch dtype from Keras' names (``"float32"``, ``"int32"``...), a torch or numpy dtype."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = {"int32": "int64", "int": "int64", "float": "float32", "float64": "float32"}.get(
        name, name
    )  # ids are int64 for torch's embedding; float64 data trains as float32, as fit does
    resolved = getattr(torch, name, None)
    if not isinstance(resolved, torch.dtype):
        raise ConfigError(
            f"unknown dtype {dtype!r}. Fix: use 'float32' for numbers or 'int32' for token ids."
        )
    return resolved


def _free_sizes(shape: tuple) -> tuple[int, ...]:
    return _FREE_SIZES if None in shape else _FREE_SIZES[:1]


def flatten(structure: Any) -> list[KerasTensor]:
    """Every :class:`KerasTensor` in a nested list/tuple/dict, in order."""
    if isinstance(structure, KerasTensor):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in flatten(item)]
    if isinstance(structure, dict):
        return [t for item in structure.values() for t in flatten(item)]
    return []


def is_symbolic(structure: Any) -> bool:
    """Whether ``structure`` (a tensor, or a list/tuple/dict of them) holds a KerasTensor."""
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(is_symbolic(item) for item in structure)
    if isinstance(structure, dict):
        return any(is_symbolic(item) for item in structure.values())
    return False


def replace(structure: Any, value_of: Callable[[KerasTensor], Any]) -> Any:
    """``structure`` with each KerasTensor leaf replaced by ``value_of(leaf)``."""
    if isinstance(structure, KerasTensor):
        return value_of(structure)
    if isinstance(structure, (list, tuple)):
        items = [replace(item, value_of) for item in structure]
        return items if isinstance(structure, list) else tuple(items)
    if isinstance(structure, dict):
        return {key: replace(item, value_of) for key, item in structure.items()}
    return structure


def call_symbolic(layer: Callable, args: tuple, kwargs: dict) -> Any:
    """Record ``layer(*args, **kwargs)`` on symbolic tensors as a :class:`Node`.

    The layer runs on the inputs' examples (in inference mode, without gradients), which builds
    its weights and gives the output shapes; a failure there is a ShapeError naming the layer
    and its input shapes, raised while the model is drawn rather than when it trains.
    """
    inputs = flatten((args, kwargs))
    runs = max(len(t.examples) for t in inputs)
    results = []
    for run in range(runs):
        run_args, run_kwargs = replace(
            (args, kwargs), lambda t, run=run: t.examples[min(run, len(t.examples) - 1)]
        )
        results.append(_run_example(layer, run_args, run_kwargs, inputs))
    node = Node(layer, args, kwargs, None)
    node.outputs = _symbolic_outputs(results, node)
    return node.outputs


def _run_example(layer: Callable, args: tuple, kwargs: dict, inputs: list[KerasTensor]) -> Any:
    kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    module = layer if isinstance(layer, nn.Module) else None
    was_training = module.training if module is not None else False
    if module is not None:
        module.eval()  # dropout off, batch-norm statistics untouched
    try:
        with torch.no_grad():
            return layer(*args, **kwargs)
    except (RuntimeError, ValueError, IndexError, TypeError) as error:
        shapes = ", ".join(str(t.shape) for t in inputs)
        label = getattr(layer, "name", None) or type(layer).__name__
        raise ShapeError(
            f"layer {label!r} ({type(layer).__name__}) cannot take inputs of shape {shapes}: "
            f"{error}. Fix: check the shapes the previous layers produce (model.summary())."
        ) from error
    finally:
        if module is not None:
            module.train(was_training)
            for submodule in module.modules():
                if getattr(submodule, "stateful", False) and hasattr(submodule, "reset_states"):
                    submodule.reset_states()


def _symbolic_outputs(results: list[Any], node: Node) -> Any:
    first = results[0]
    if isinstance(first, torch.Tensor):
        shape = [None] + [
            size if all(r.shape[i] == size for r in results) else None
            for i, size in enumerate(first.shape)
        ][1:]
        return KerasTensor(tuple(shape), first.dtype, tuple(results), node=node)
    if isinstance(first, (list, tuple)):
        items = [_symbolic_outputs([r[i] for r in results], node) for i in range(len(first))]
        return items if isinstance(first, list) else tuple(items)
    if isinstance(first, dict):
        return {key: _symbolic_outputs([r[key] for r in results], node) for key in first}
    if first is None:
        label = getattr(node.layer, "name", None) or type(node.layer).__name__
        raise ConfigError(
            f"layer {label!r} returned nothing (None). Fix: return the output tensor from its "
            f"call() method."
        )
    return first
