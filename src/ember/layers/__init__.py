"""Keras-style layers as ``torch.nn.Module``s with lazy input shapes.

``LAYERS`` maps every class name (and Keras' short aliases such as ``MaxPool2D``) to its class;
each layer registers itself where it is defined (see :mod:`ember.layers.registry`). :func:`get`
looks one up, as model loading does.

Example:
    >>> import torch
    >>> from ember import layers
    >>> net = torch.nn.Sequential(layers.Conv2D(8, 3, activation="relu"), layers.Flatten())
    >>> net(torch.randn(2, 10, 10, 1)).shape
    torch.Size([2, 512])
    >>> layers.get("Dense") is layers.Dense
    True
"""

from ember.layers import initializers, regularizers
from ember.layers.attention import KeyValueCache, MultiHeadAttention
from ember.layers.base import Layer
from ember.layers.bidirectional import Bidirectional
from ember.layers.conv import Conv1D, Conv2D, Conv3D
from ember.layers.conv_variants import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from ember.layers.core import Activation, Dense, Dropout, Embedding, Flatten, Reshape
from ember.layers.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
from ember.layers.normalization import BatchNormalization, LayerNormalization
from ember.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    LPPooling1D,
    LPPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
    MinPooling1D,
    MinPooling2D,
)
from ember.layers.position import (
    PositionEmbedding,
    SinusoidalPositionEmbedding,
    TokenAndPositionEmbedding,
)
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.layers.registry import LAYERS
from ember.layers.transformer import TransformerDecoder, TransformerEncoder

__all__ = [
    "LAYERS",
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Dense",
    "DepthwiseConv2D",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "KeyValueCache",
    "LPPooling1D",
    "LPPooling2D",
    "LSTM",
    "Layer",
    "LayerNormalization",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "MinPooling1D",
    "MinPooling2D",
    "MultiHeadAttention",
    "PositionEmbedding",
    "Reshape",
    "SeparableConv2D",
    "SimpleRNN",
    "SinusoidalPositionEmbedding",
    "TokenAndPositionEmbedding",
    "TransformerDecoder",
    "TransformerEncoder",
    "get",
    "initializers",
    "regularizers",
]


def get(name: str) -> type[Layer]:
    """The layer class registered as ``name`` (case, ``_`` and ``-`` ignored), e.g. ``"Conv2D"``.

    Unknown names raise :class:`~ember.errors.UnknownNameError` listing close matches.
    """
    return LAYERS.get(name)
