"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts, via rich.

A functional model's table has a row per call and Keras' "Connected to" column, naming each
tensor where it was made, ``layer[node][index]``: the ``node``-th call of ``layer`` (a shared
layer has several), its ``index``-th output; inputs are ``name[0][0]``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import torch
from rich import box
from rich.console import Console
from rich.table import Table
from torch import nn

from ember.errors import ConfigError
from ember.layers.base import Layer
from ember.layers.keras_weights import keras_weights
from ember.layers.symbolic import flatten


def count(module: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) counts as Keras reports them (``count_params``): the weights
    Keras lists (:func:`~ember.layers.keras_weights.keras_weights`), so an adapted
    Normalization's mean, variance and count and batch norm's moving statistics count as
    non-trainable, a Normalization given its statistics has none, and an LSTM has one bias.

    Example:
        >>> import torch
        >>> from ember import layers
        >>> norm = layers.Normalization()
        >>> norm.adapt(torch.randn(8, 3))
        >>> count(norm)  # mean (3,), variance (3,) and the count of samples, as in Keras
        (0, 7)
    """
    if not _holds_keras_layers(module):  # an ember layer whose weights Keras lists as its own
        keras_total = sum(math.prod(w.shape) for w in keras_weights(module))
        trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        stored = sum(p.numel() for p in module.parameters())
        stored += sum(b.numel() for b in module.buffers() if b.is_floating_point())
        if trainable:  # Keras' layout differs in the trainable weights (an LSTM's one bias)
            trainable += keras_total - stored
        return trainable, keras_total - trainable
    trainable = sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters(recurse=False) if not p.requires_grad)
    frozen += sum(b.numel() for b in module.buffers(recurse=False) if b.is_floating_point())
    for child in module.children():
        child_trainable, child_frozen = count(child)
        trainable, frozen = trainable + child_trainable, frozen + child_frozen
    return trainable, frozen


def _holds_keras_layers(module: nn.Module) -> bool:
    """Whether ``module`` is a model, a plain torch module or a wrapper of ember layers (which
    are counted one by one), rather than one ember layer."""
    if not isinstance(module, Layer):
        return True
    return any(isinstance(m, Layer) for m in module.modules() if m is not module)


def summarize(
    model: nn.Module,
    input_shape: tuple[int, ...] | None = None,
    print_fn: Callable[[str], Any] | None = None,
) -> str:
    """Render the summary of ``model``, print it (or pass it to ``print_fn``) and return it."""
    model.ensure_built()
    network = model.network
    if hasattr(network, "nodes"):  # a functional model: its own rows, with connections
        return _render(model, network, graph_rows(network), print_fn)
    rows_from = list(network.layers) if hasattr(network, "layers") else list(network.children())
    input_shape = input_shape or _input_shape(rows_from) or getattr(model, "seen_input_shape", None)
    if input_shape is None:
        raise ConfigError(
            f"the input shape of model {model.name!r} is unknown, so its output shapes are too. "
            f"Fix: call model.summary(input_shape=(...)) with the per-sample shape, give the first "
            f"layer input_shape=..., or fit the model once first."
        )
    shapes = _output_shapes(network, rows_from, input_shape)
    rows = [
        (
            f"{getattr(layer, 'name', None) or index} ({type(layer).__name__})",
            shapes.get(index, "?"),
            f"{sum(count(layer)):,}",
        )
        for index, layer in enumerate(rows_from)
    ]
    return _render(model, network, rows, print_fn)


def _render(
    model: nn.Module, network: nn.Module, rows: list[tuple], print_fn: Callable | None
) -> str:
    table = Table(box=box.HEAVY_HEAD, show_lines=False)
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right")
    if rows and len(rows[0]) == 4:
        table.add_column("Connected to")
    for row in rows:
        table.add_row(*row)
    trainable, frozen = count(network)
    width = 100 if rows and len(rows[0]) == 4 else 80
    console = Console(file=io.StringIO(), width=width, force_terminal=False, highlight=False)
    console.print(f'Model: "{model.name}"')
    console.print(table)
    console.print(f" Total params: {trainable + frozen:,} ({_size(trainable + frozen)})")
    console.print(f" Trainable params: {trainable:,} ({_size(trainable)})")
    console.print(f" Non-trainable params: {frozen:,} ({_size(frozen)})")
    text = console.file.getvalue()
    (print_fn or (lambda s: print(s, end="")))(text)
    return text


def _input_shape(layers: list[nn.Module]) -> tuple[int, ...] | None:
    if not layers:
        return None
    first = layers[0]
    return getattr(first, "built_input_shape", None) or getattr(first, "input_shape", None)


@torch.no_grad()
def _output_shapes(network: nn.Module, layers: list[nn.Module], input_shape: tuple) -> dict:
    shapes: dict[int, str] = {}
    handles = []
    for index, layer in enumerate(layers):

        def hook(_module: nn.Module, _inputs: Any, output: Any, index: int = index) -> None:
            if isinstance(output, torch.Tensor):
                shapes[index] = str((None, *output.shape[1:])).replace("None,)", "None)")

        handles.append(layer.register_forward_hook(hook))
    first = layers[0] if layers else None
    dtype = getattr(first, "input_dtype", torch.float32)
    device = next((p.device for p in network.parameters()), torch.device("cpu"))
    was_training = network.training
    network.eval()
    try:
        network(torch.zeros(2, *input_shape, dtype=dtype, device=device))
    finally:
        network.train(was_training)
        for handle in handles:
            handle.remove()
    return shapes


def _size(params: int) -> str:
    size = params * 4.0  # float32 bytes, as Keras reports
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def graph_rows(model: Any) -> list[tuple[str, str, str, str]]:
    """``(layer (type), output shape, parameters, connected to)`` for each input and call."""
    where: dict[int, str] = {}
    rows = []
    for tensor in model._input_list:
        where[tensor.id] = f"{tensor.name}[0][0]"
        rows.append((f"{tensor.name} (InputLayer)", _shape(tensor.shape), "0", "-"))
    calls: dict[int, int] = {}
    counted: set[int] = set()
    for node in model.nodes():
        layer = node.layer
        name = getattr(layer, "name", None) or type(layer).__name__
        index = calls.get(id(layer), 0)
        calls[id(layer)] = index + 1
        outputs = flatten(node.outputs)
        for position, tensor in enumerate(outputs):
            where[tensor.id] = f"{name}[{index}][{position}]"
        # A shared layer's weights are counted on its first call only, as Keras does.
        params = 0 if id(layer) in counted else sum(count(layer))
        counted.add(id(layer))
        shapes = ", ".join(_shape(t.shape) for t in outputs)
        sources = ", ".join(where[t.id] for t in node.input_tensors())
        rows.append((f"{name} ({type(layer).__name__})", shapes, f"{params:,}", sources))
    return rows


def _shape(shape: tuple) -> str:
    return str(shape).replace("None,)", "None)")
