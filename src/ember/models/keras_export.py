"""ember models as Keras 3 model configs (a ``.keras`` archive's ``config.json``).

:func:`keras_model_config` writes a Sequential or functional model as Keras'
``serialize_keras_object(model)`` does, so that Keras 3's ``keras.models.load_model`` rebuilds
it: an ``InputLayer`` and each layer's class and constructor arguments (ember's layers take
Keras' argument names), and for a graph each layer's calls (``inbound_nodes``) with the tensors
they read named by layer, call and output (``keras_history``). Layers listed in Keras' order
(:func:`~ember.models.keras_layout.keras_layer_order`), so the weights file lines up.
:mod:`.keras_config` reads the same form.

Example:
    >>> import ember
    >>> from ember import layers
    >>> model = ember.Sequential([layers.Dense(2, activation="relu", input_shape=(3,))])
    >>> config = keras_model_config(model)
    >>> [entry["class_name"] for entry in config["config"]["layers"]]
    ['InputLayer', 'Dense']
    >>> config["config"]["layers"][1]["config"]["units"]
    2
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from torch import nn

from ember.errors import SaveError
from ember.layers.base import Layer
from ember.layers.registry import LAYERS
from ember.layers.symbolic import KerasTensor
from ember.models.keras_config import OBJECT_FAMILIES
from ember.models.keras_layout import is_functional, keras_flatten, keras_layer_order
from ember.models.model import Model
from ember.models.sequential import Sequential

_FLOAT_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
# ember's own constructor arguments that Keras' layers do not take, left out when None.
_EMBER_ONLY = {"input_length", "alpha"}
# ember layers that Keras 3 itself does not have: written under ember's name, read by ember.
_NOT_IN_KERAS = {
    "LPPooling1D",
    "LPPooling2D",
    "MinPooling1D",
    "MinPooling2D",
    "PositionEmbedding",
    "SinusoidalPositionEmbedding",
    "TokenAndPositionEmbedding",
    "TransformerDecoder",
    "TransformerEncoder",
}


def keras_model_config(model: nn.Module) -> dict[str, Any]:
    """``model`` (a built Sequential or functional model) as Keras 3 serializes a model."""
    if is_functional(model):
        return _functional_config(model)
    if not isinstance(model, Sequential):
        raise SaveError(
            f"Keras' .keras files hold Sequential and functional models; received a "
            f"{type(model).__name__}. Fix: save its weights with "
            f"model.save_weights('weights.safetensors')."
        )
    first = model.layers[0] if len(model.layers) else None
    shape = getattr(first, "input_shape", None) or getattr(first, "built_input_shape", None)
    if shape is None:
        raise SaveError(
            f"cannot save {model.name!r}: its input shape is unknown. Fix: give the first layer "
            f"input_shape=..., or call model.build(input_shape) first."
        )
    dtype = str(getattr(first, "input_dtype", "float32")).replace("torch.", "")
    batch_shape = [None, *shape]
    entries = [_input_config("input_layer", batch_shape, dtype)]
    entries += [_layer_config(layer) for layer in model.layers]
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": model.name,
            "trainable": model.trainable,
            "dtype": _FLOAT_POLICY,
            "layers": entries,
            "build_input_shape": batch_shape,
        },
        "registered_name": None,
        "build_config": {"input_shape": batch_shape},
    }


def _functional_config(model: Any) -> dict[str, Any]:
    history: dict[int, list[Any]] = {}  # tensor id -> [layer name, call, output index]
    inputs = keras_flatten(model.inputs)
    for tensor in inputs:
        history[tensor.id] = [tensor.name, 0, 0]
    calls: dict[int, list[Any]] = defaultdict(list)
    for node in model.nodes():
        layer = node.layer
        call = len(calls[id(layer)])
        calls[id(layer)].append(node)
        for index, tensor in enumerate(keras_flatten(node.outputs)):
            history[tensor.id] = [layer.name, call, index]

    def encode(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return {
                "class_name": "__keras_tensor__",
                "config": {
                    "shape": list(value.shape),
                    "dtype": str(value.dtype).replace("torch.", ""),
                    "keras_history": history[value.id],
                },
            }
        if isinstance(value, (list, tuple)):
            return [encode(item) for item in value]
        if isinstance(value, dict):
            return {key: encode(item) for key, item in value.items()}
        return _keras_value(value, "a layer call")

    entries = [
        {
            **_input_config(t.name, list(t.shape), str(t.dtype).replace("torch.", "")),
            "name": t.name,
            "inbound_nodes": [],
        }
        for t in inputs
    ]
    for layer in keras_layer_order(model):
        entry = _layer_config(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": encode(list(node.args)), "kwargs": encode(node.kwargs)}
            for node in calls[id(layer)]
        ]
        entries.append(entry)

    def endpoints(value: Any) -> Any:  # a functional layer's calls count from 1 here
        if isinstance(value, KerasTensor):
            name, call, index = history[value.id]
            return [
                name,
                call + int(value.node is not None and is_functional(value.node.layer)),
                index,
            ]
        if isinstance(value, dict):
            return {key: endpoints(item) for key, item in value.items()}
        return [endpoints(item) for item in value]

    config = {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": endpoints(model.inputs),
        "output_layers": endpoints(model.outputs),
    }
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": config,
        "registered_name": "Functional",
        "build_config": {"input_shape": None},
    }


def _input_config(name: str, batch_shape: list[Any], dtype: str) -> dict[str, Any]:
    config = {"batch_shape": batch_shape, "dtype": dtype, "sparse": False, "ragged": False}
    config.update(name=name, optional=False)
    return {"module": "keras.layers", "class_name": "InputLayer", "config": config}


def _layer_config(layer: nn.Module) -> dict[str, Any]:
    if isinstance(layer, Model):
        return keras_model_config(layer)
    kind = type(layer).__name__
    label = getattr(layer, "name", None) or kind
    if not isinstance(layer, Layer) or kind not in LAYERS:
        raise SaveError(
            f"cannot write layer {label!r} ({kind}) to a .keras file: it is not an ember layer "
            f"(a torch module or function, or an unregistered class), so no config can rebuild "
            f"it. Fix: use ember layers (e.g. layers.Add() for x + y), or save the weights "
            f"alone with model.save_weights(path)."
        )
    config = layer.get_config()
    if getattr(layer, "learns_statistics", False):
        # Keras keeps adapted statistics as the layer's weights, not in its config.
        config = {k: v for k, v in config.items() if k not in ("mean", "variance")}
    return _keras_layer(kind, config, layer.name, layer.trainable)


def _keras_layer(kind: str, config: dict[str, Any], name: Any, trainable: bool) -> dict[str, Any]:
    where = name or kind
    arguments = {
        key: _keras_value(value, f"{where}.{key}")
        for key, value in config.items()
        if key not in ("input_shape", "name", "trainable")
        and not (key in _EMBER_ONLY and value is None)
    }
    # A few Keras layers without weights take no trainable argument (SpatialDropout2D).
    settings = {"name": name} if name else {}
    settings.update({} if trainable else {"trainable": False}, dtype=_FLOAT_POLICY)
    ember_only = kind in _NOT_IN_KERAS
    return {
        "module": "ember.layers" if ember_only else "keras.layers",
        "class_name": kind,
        "config": {**settings, **arguments},
        "registered_name": f"ember>{kind}" if ember_only else None,
    }


def _keras_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_keras_value(item, where) for item in value]
    if isinstance(value, dict):
        if set(value) == {"class_name", "config"} and value["class_name"] in LAYERS:
            inner = value["config"]  # a wrapped layer (Bidirectional, TimeDistributed)
            trainable = inner.get("trainable", True) is not False
            return _keras_layer(value["class_name"], inner, inner.get("name"), trainable)
        return {str(key): _keras_value(item, where) for key, item in value.items()}
    for family, module, _, base in OBJECT_FAMILIES:
        if isinstance(value, base):
            spec = module.serialize(value)
            return spec if isinstance(spec, str) else {"module": f"keras.{family}", **spec}
    raise SaveError(
        f"cannot write {where}={value!r} to a .keras file: only names, numbers and ember "
        f"initializer, regularizer and constraint objects can be. Fix: pass it by name "
        f"(e.g. activation='relu'), or save the weights alone with model.save_weights(path)."
    )
