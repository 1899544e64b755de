"""Models: ``Sequential``, ``Model`` (wrap any module), ``load_model``, and the ``Perceptron``."""

from ember.model import Model
from ember.models.perceptron import Perceptron
from ember.sequential import Sequential
from ember.serialization import load_model

__all__ = ["Model", "Perceptron", "Sequential", "load_model"]
