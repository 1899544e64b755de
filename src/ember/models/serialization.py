"""A Sequential's architecture as data: each layer's class and recorded constructor arguments.

:func:`sequential_config` writes it (JSON-ready), :func:`layers_from_config` rebuilds the layers
from it; nothing is unpickled or executed. ``config.json`` in a model folder holds it
(:mod:`ember.models.saving`, :mod:`ember.models.loading`).

Example:
    >>> from ember import layers, models
    >>> config = sequential_config(models.Sequential([layers.Dense(2, input_shape=(3,))]))
    >>> [type(layer).__name__ for layer in layers_from_config(config)]
    ['Dense']
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ember.errors import SaveError
from ember.layers.base import Layer
from ember.layers.config_values import deserialize_value, serialize_value
from ember.layers.registry import LAYERS
from ember.version import __version__

FORMAT = "ember.sequential/1"


def sequential_config(model: nn.Module) -> dict[str, Any]:
    """The JSON-ready architecture of a :class:`~ember.Sequential` model."""
    entries = [layer_entry(layer, str(index)) for index, layer in enumerate(model.layers)]
    first = model.layers[0] if len(model.layers) else None
    shape = getattr(first, "built_input_shape", None) or getattr(first, "input_shape", None)
    return {
        "format": FORMAT,
        "ember_version": __version__,
        "class_name": "Sequential",
        "name": model.name,
        "input_shape": list(shape) if shape is not None else None,
        "layers": entries,
    }


def layer_entry(layer: nn.Module, label: str) -> dict[str, Any]:
    """One ember layer as ``{"class_name", "config"}``; a plain torch module is refused."""
    if not isinstance(layer, Layer):
        raise SaveError(
            f"cannot save layer {label} ({type(layer).__name__}): it is a plain torch module, "
            f"whose constructor ember cannot record. Fix: use the ember layer (e.g. "
            f"layers.Activation('relu')), or save the weights alone with model.save_weights()."
        )
    name = type(layer).__name__
    config = {
        key: serialize_value(value, f"{layer.name or name}.{key}")
        for key, value in layer.get_config().items()
    }
    config["name"] = layer.name
    return {"class_name": name, "config": config}


def layers_from_config(config: dict[str, Any]) -> list[Layer]:
    """The layers :func:`sequential_config` recorded, made anew (built when given a shape)."""
    stack = []
    for entry in config["layers"]:
        cls = LAYERS.get(entry["class_name"])
        stack.append(cls(**{k: deserialize_value(v) for k, v in entry["config"].items()}))
    return stack
