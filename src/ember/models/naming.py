"""Keras' names for layers, and finding a layer by its name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from torch import nn

from ember.errors import ConfigError


def snake_case(name: str) -> str:
    """Keras' rule, so layers get Keras' names.

    Example:
        >>> snake_case("Conv2D"), snake_case("MaxPooling2D")
        ('conv2d', 'max_pooling2d')
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def find_layer(layers: Sequence[nn.Module], name: str | None, index: int | None) -> nn.Module:
    """Keras' ``get_layer``: the layer at ``index``, or the one named ``name``; an unknown name
    is an error listing the names there are.

    Example:
        >>> from ember import layers
        >>> find_layer([layers.Dense(2, name="head")], "head", None).units
        2
    """
    if index is not None:
        return layers[index]
    for layer in layers:
        if getattr(layer, "name", None) == name:
            return layer
    known = [getattr(layer, "name", None) or type(layer).__name__ for layer in layers]
    raise ConfigError(f"no layer named {name!r}. The layers are: {', '.join(known)}.")
