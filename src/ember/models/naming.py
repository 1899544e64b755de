"""Keras' names for layers."""

from __future__ import annotations

import re


def snake_case(name: str) -> str:
    """Keras' rule, so layers get Keras' names.

    Example:
        >>> snake_case("Conv2D"), snake_case("MaxPooling2D")
        ('conv2d', 'max_pooling2d')
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
