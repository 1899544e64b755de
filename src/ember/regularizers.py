"""Keras' ``keras.regularizers`` at the top level: the weight penalties of
:mod:`ember.layers.regularizers`, so that ``from ember import regularizers`` reads as in Keras.

Example:
    >>> from ember import layers, regularizers
    >>> dense = layers.Dense(4, kernel_regularizer=regularizers.L2(1e-4))
    >>> regularizers.l1_l2(l1=1e-5, l2=1e-4)
    L1L2(l1=1e-05, l2=0.0001)
"""

from ember.layers.regularizers import (
    L1,
    L1L2,
    L2,
    Regularizer,
    deserialize,
    get,
    l1,
    l1_l2,
    l2,
    serialize,
)

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "serialize",
]
