"""Keras-style layers (filled in by the layer modules)."""

from ember.layers.base import Layer

__all__ = ["Layer"]
