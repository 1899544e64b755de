"""A functional model's graph as data, and back: layers, the calls between them, inputs, outputs.

:func:`graph_config` writes it (JSON-ready: each layer's class and constructor arguments, each
call's arguments by tensor number), :func:`graph_from_config` draws the same graph again by
calling fresh layers on fresh ``Input`` tensors. Nothing is unpickled or executed: a torch
function in the graph (``x + y``) is stored by its name under ``torch`` and looked up there.

Example:
    >>> import ember
    >>> from ember import layers
    >>> inputs = ember.Input(shape=(3,))
    >>> model = ember.Model(inputs, layers.Dense(2)(inputs))
    >>> again = graph_from_config(graph_config(model))
    >>> [type(layer).__name__ for layer in again.layers], again.output_shape
    (['Dense'], (None, 2))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember.errors import SaveError
from ember.layers.config_values import deserialize_value, serialize_value
from ember.layers.registry import LAYERS
from ember.layers.symbolic import Input, KerasTensor, TorchFunction, call_symbolic
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.models.serialization import layer_entry, layers_from_config, sequential_config
from ember.version import __version__

FORMAT = "ember.functional/1"
# Where a torch function in a graph may come from (looked up by name on loading, never imported).
_TORCH_NAMESPACES = {
    "torch": torch,
    "torch.Tensor": torch.Tensor,
    "torch.nn.functional": torch.nn.functional,
    "torch.linalg": torch.linalg,
    "torch.special": torch.special,
}


def graph_config(model: Any) -> dict[str, Any]:
    """The JSON-ready graph of a :class:`~ember.models.functional.Functional` model."""
    numbers: dict[int, int] = {}

    def number(tensor: KerasTensor) -> dict[str, int]:
        if tensor.id not in numbers:
            numbers[tensor.id] = len(numbers)
        return {"tensor": numbers[tensor.id]}

    inputs = [
        {
            "name": t.name,
            "shape": list(t.shape[1:]),
            "dtype": str(t.dtype).replace("torch.", ""),
            **number(t),
        }
        for t in model._input_list
    ]
    layer_index = {id(layer): i for i, layer in enumerate(model.layers)}
    nodes = []
    for node in model.nodes():
        where = f"{_label(node.layer)}'s call"
        nodes.append(
            {
                "layer": layer_index[id(node.layer)],
                "args": _encode(node.args, number, where),
                "kwargs": _encode(node.kwargs, number, where),
                "outputs": _encode(node.outputs, number, where),
            }
        )
    return {
        "format": FORMAT,
        "ember_version": __version__,
        "class_name": "Functional",
        "name": model.name,
        "layers": [layer_config(layer) for layer in model.layers],
        "inputs": inputs,
        "inputs_structure": _encode(model.inputs, number, "inputs"),
        "nodes": nodes,
        "outputs": _encode(model.outputs, number, "outputs"),
    }


def layer_config(layer: nn.Module) -> dict[str, Any]:
    """One layer of a graph: an ember layer, a torch function, or a nested model."""
    if isinstance(layer, TorchFunction):
        return {"class_name": "TorchFunction", "function": _function_name(layer.function)}
    if isinstance(layer, Sequential):
        return {"class_name": "Sequential", "config": sequential_config(layer)}
    if isinstance(layer, Model) and hasattr(layer, "nodes"):
        return {"class_name": "Functional", "config": graph_config(layer)}
    return layer_entry(layer, repr(_label(layer)))


def layer_from_config(entry: dict[str, Any]) -> nn.Module:
    """Inverse of :func:`layer_config` (not built yet)."""
    kind = entry["class_name"]
    if kind == "TorchFunction":
        return TorchFunction(_function_named(entry["function"]))
    if kind == "Sequential":
        config = entry["config"]
        model = Sequential(layers_from_config(config), name=config.get("name"))
        if config.get("input_shape") is not None:
            model.build(tuple(config["input_shape"]))
        return model
    if kind == "Functional":
        return graph_from_config(entry["config"])
    cls = LAYERS.get(kind)
    return cls(**{k: deserialize_value(v) for k, v in entry["config"].items()})


def graph_from_config(config: dict[str, Any]) -> Any:
    """The model :func:`graph_config` describes, with fresh weights (load them afterwards)."""
    layers = [layer_from_config(entry) for entry in config["layers"]]
    tensors: dict[int, Any] = {}
    for spec in config["inputs"]:
        tensors[spec["tensor"]] = Input(
            shape=tuple(spec["shape"]), dtype=spec["dtype"], name=spec["name"]
        )
    for node in config["nodes"]:
        args = _decode(node["args"], tensors)
        kwargs = _decode(node["kwargs"], tensors)
        outputs = call_symbolic(layers[node["layer"]], tuple(args), kwargs)
        _bind(node["outputs"], outputs, tensors)
    inputs = _decode(config["inputs_structure"], tensors)
    outputs = _decode(config["outputs"], tensors)
    return Model(inputs, outputs, name=config.get("name"))


def _encode(value: Any, number: Any, where: str) -> Any:
    if isinstance(value, KerasTensor):
        return number(value)
    if isinstance(value, list):
        return {"list": [_encode(v, number, where) for v in value]}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, number, where) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): _encode(v, number, where) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [value.start, value.stop, value.step]}
    if value is Ellipsis:
        return {"ellipsis": True}
    return {"value": serialize_value(value, where)}


def _decode(value: Any, tensors: dict[int, Any]) -> Any:
    ((kind, content),) = value.items()
    if kind == "tensor":
        return tensors[content]
    if kind == "list":
        return [_decode(v, tensors) for v in content]
    if kind == "tuple":
        return tuple(_decode(v, tensors) for v in content)
    if kind == "dict":
        return {k: _decode(v, tensors) for k, v in content.items()}
    if kind == "slice":
        return slice(*content)
    if kind == "ellipsis":
        return Ellipsis
    return deserialize_value(content)


def _bind(encoded: Any, outputs: Any, tensors: dict[int, Any]) -> None:
    ((kind, content),) = encoded.items()
    if kind == "tensor":
        tensors[content] = outputs
    elif kind in ("list", "tuple"):
        for item, value in zip(content, outputs):
            _bind(item, value, tensors)
    elif kind == "dict":
        for key, item in content.items():
            _bind(item, outputs[key], tensors)


def _function_name(function: Any) -> str:
    name = getattr(function, "__name__", None)
    for prefix, namespace in _TORCH_NAMESPACES.items():
        if name and getattr(namespace, name, None) is function:
            return f"{prefix}.{name}"
    raise SaveError(
        f"cannot save the function {function!r} in the graph: only torch functions can be "
        f"saved by name. Fix: wrap the computation in a layer (a Layer subclass registered "
        f"with ember), or save the weights alone with model.save_weights(path)."
    )


def _function_named(qualified: str) -> Any:
    prefix, _, name = qualified.rpartition(".")
    namespace = _TORCH_NAMESPACES.get(prefix)
    function = getattr(namespace, name, None) if namespace is not None else None
    if function is None or name.startswith("_") and not name.startswith("__"):
        raise SaveError(f"the saved graph names an unknown torch function {qualified!r}.")
    return function


def _label(layer: Any) -> str:
    return getattr(layer, "name", None) or type(layer).__name__
