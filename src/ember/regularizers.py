"""Keras' ``keras.regularizers`` at the top level: the weight penalties of
:mod:`ember.layers.regularizers`, so that ``from ember import regularizers`` reads as in Keras.

``l1_l2`` is Keras 3's: another name of :class:`L1L2`, whose defaults are ``l1=0.0, l2=0.0``
(Keras 2's ``l1_l2`` function, 0.01 each, is ``ember.layers.regularizers.l1_l2`` and the
``"l1_l2"`` name).

Example:
    >>> from ember import layers, regularizers
    >>> dense = layers.Dense(4, kernel_regularizer=regularizers.L2(1e-4))
    >>> regularizers.l1_l2(l1=1e-5, l2=1e-4)
    L1L2(l1=1e-05, l2=0.0001)
    >>> regularizers.l1_l2()
    L1L2(l1=0.0, l2=0.0)
"""

from ember.layers.regularizers import (
    L1,
    L1L2,
    L2,
    Regularizer,
    deserialize,
    get,
    l1,
    l2,
    serialize,
)

l1_l2 = L1L2  # keras.regularizers.l1_l2 is keras.regularizers.L1L2

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
