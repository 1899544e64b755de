"""Keras' ``keras.constraints`` at the top level: the weight constraints of
:mod:`ember.layers.constraints`, applied after each optimizer step, so that
``from ember import constraints`` reads as in Keras.

Example:
    >>> from ember import constraints, layers
    >>> dense = layers.Dense(4, kernel_constraint=constraints.MaxNorm(2.0))
    >>> constraints.get("non_neg")
    NonNeg()
"""

from ember.layers.constraints import (
    Constraint,
    MaxNorm,
    MinMaxNorm,
    NonNeg,
    UnitNorm,
    deserialize,
    get,
    max_norm,
    min_max_norm,
    non_neg,
    serialize,
    unit_norm,
)

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]
