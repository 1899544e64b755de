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

from ember.layers import constraints, initializers, regularizers, weight_arrays
from ember.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ember.layers.attention import KeyValueCache, MultiHeadAttention
from ember.layers.augmentation_layers import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
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
from ember.layers.image_resizing import CenterCrop, Resizing
from ember.layers.lookup import CategoryEncoding, IntegerLookup, StringLookup
from ember.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ember.layers.noise import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
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
from ember.layers.preprocessing import Normalization, Rescaling
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.layers.registry import LAYERS
from ember.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from ember.layers.symbolic import Input, KerasTensor
from ember.layers.text_vectorization import TextVectorization
from ember.layers.transformer import TransformerDecoder, TransformerEncoder
from ember.layers.wrappers import Lambda, TimeDistributed

__all__ = [
    "LAYERS",
    "Activation",
    "ActivityRegularization",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "BatchNormalization",
    "CategoryEncoding",
    "Bidirectional",
    "CenterCrop",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "DepthwiseConv2D",
    "Dot",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GRU",
    "GaussianDropout",
    "GaussianNoise",
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
    "Input",
    "IntegerLookup",
    "KerasTensor",
    "KeyValueCache",
    "LPPooling1D",
    "LPPooling2D",
    "LSTM",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "Maximum",
    "MinPooling1D",
    "MinPooling2D",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Normalization",
    "PReLU",
    "Permute",
    "PositionEmbedding",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "Resizing",
    "SeparableConv2D",
    "SimpleRNN",
    "SinusoidalPositionEmbedding",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "StringLookup",
    "Subtract",
    "TextVectorization",
    "TimeDistributed",
    "TokenAndPositionEmbedding",
    "TransformerDecoder",
    "TransformerEncoder",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "constraints",
    "dot",
    "get",
    "initializers",
    "maximum",
    "minimum",
    "multiply",
    "regularizers",
    "weight_arrays",
    "subtract",
]


def get(name: str) -> type[Layer]:
    """The layer class registered as ``name`` (case, ``_`` and ``-`` ignored), e.g. ``"Conv2D"``.

    Unknown names raise :class:`~ember.errors.UnknownNameError` listing close matches.
    """
    return LAYERS.get(name)
