"""``LAYERS``: every layer class by name, filled by the layers themselves where they are defined.

A layer module registers its classes with ``@LAYERS.register("Name", "Alias", ...)`` (no names:
the class name). This module imports no layer, so any of them, and model loading, can look a
layer up here without an import cycle.

Example:
    >>> from ember.layers.registry import LAYERS
    >>> LAYERS.get("MaxPool2D").__name__
    'MaxPooling2D'
"""

from __future__ import annotations

from ember.registry import Registry

LAYERS = Registry("layer")
