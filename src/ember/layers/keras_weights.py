"""Keras' order and layouts of a model's weights, as ``get_weights``/``set_weights`` speak them.

ember stores tensors the PyTorch way (a Dense kernel is ``(units, in)``, a conv kernel
``(out, in, kh, kw)``, an LSTM has two biases). :func:`keras_weights` lists a module's weights as
Keras 3 lists the same layer's ``layer.weights``, each as a :class:`KerasWeight` that reads and
writes the ember tensors behind it:

====================  ==================================================================
Dense                 kernel ``(in, units)``, bias
Conv1D/2D/3D          kernel ``(*kernel_size, in / groups, filters)``, bias
Conv2DTranspose       kernel ``(kh, kw, filters, in)``, bias
DepthwiseConv2D       kernel ``(kh, kw, in, depth_multiplier)``, bias
SeparableConv2D       depthwise_kernel (as above), pointwise_kernel ``(1, 1, in * depth_multiplier,
                      filters)``, bias
BatchNormalization    gamma, beta, moving_mean, moving_variance
LayerNormalization    gamma, beta
Embedding             embeddings ``(input_dim, output_dim)``
SimpleRNN, LSTM       kernel ``(in, G * units)``, recurrent_kernel ``(units, G * units)``,
                      bias ``(G * units,)``: torch's two biases summed (LSTM gates i, f, c, o)
GRU                   the same with gates z, r, h (torch's r, z, n) and bias ``(2, 3 * units)``,
                      the input and the recurrent bias (Keras' ``reset_after=True``)
MultiHeadAttention    query/key/value kernel ``(in, heads, dim)``, bias ``(heads, dim)``;
                      attention_output kernel ``(heads, value_dim, out)``, bias ``(out,)``
TransformerEncoder,   KerasHub's order of the sublayers (see ``_BLOCK_ORDER``)
TransformerDecoder
====================  ==================================================================

Any other module lists its own parameters and float buffers (``state_dict`` order, PyTorch
layout), then its children's, in order: ``Bidirectional`` (forward, then backward layer),
``PositionEmbedding`` (``(sequence_length, features)``, KerasHub's layout), ``Sequential``, and
plain torch modules, whose weights keep the layout they have.

Example:
    >>> import torch
    >>> from ember import layers
    >>> dense = layers.Dense(3, name="dense")
    >>> _ = dense(torch.zeros(1, 5))
    >>> [(w.name, w.shape, w.torch_shape) for w in keras_weights(dense)]
    [('kernel', (5, 3), (3, 5)), ('bias', (3,), (3,))]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ember.layers.attention import MultiHeadAttention
from ember.layers.base import Layer
from ember.layers.conv import Conv1D, Conv2D, Conv3D
from ember.layers.conv_variants import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from ember.layers.core import Dense, Embedding
from ember.layers.normalization import BatchNormalization, LayerNormalization
from ember.layers.preprocessing import Normalization
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.layers.transformer import TransformerDecoder, TransformerEncoder


@dataclass(frozen=True)
class KerasWeight:
    """One weight as Keras lists it, and how to read it from and write it to ember's tensors."""

    layer: str  # the layer's name ("dense_1"), or its module path where it has none
    name: str  # Keras' name for it: "kernel", "moving_variance", "query/bias", ...
    shape: tuple[int, ...]  # in Keras' layout
    torch_shape: tuple[int, ...]  # the shape ember stores (PyTorch's layout)
    read: Callable[[], torch.Tensor]  # the value in Keras' layout (detached)
    write: Callable[[torch.Tensor], None]  # stores a Keras-layout value (under no_grad)


def keras_weights(module: nn.Module) -> list[KerasWeight]:
    """Every weight of ``module`` in Keras' order and layouts (see the module docstring)."""
    owned: dict[str, list[tuple[str, torch.Tensor]]] = defaultdict(list)
    for key, tensor in module.state_dict(keep_vars=True).items():
        if tensor.is_floating_point():  # not num_batches_tracked: Keras has no such weight
            path, _, name = key.rpartition(".")
            owned[path].append((name, tensor))
    return _walk(module, "", owned)


def _walk(
    module: nn.Module, path: str, owned: Mapping[str, list[tuple[str, torch.Tensor]]]
) -> list[KerasWeight]:
    label = _label(module, path)
    layout = _find(_LAYOUTS, module)
    if layout is not None:
        return layout(module, label)
    order = _find(_BLOCK_ORDER, module)
    if order is not None:  # a composite whose sublayers Keras lists in another order
        children = [(name, getattr(module, name, None)) for name in order]
        weights = []
    else:
        children = list(module.named_children())
        weights = [_as_is(label, name, tensor) for name, tensor in owned.get(path, [])]
    for name, child in children:
        if child is not None:
            weights += _walk(child, f"{path}.{name}" if path else name, owned)
    return weights


def _find(table: Mapping[type, Any], module: nn.Module) -> Any:
    """The entry for ``module``'s class or its nearest base class in ``table``, or None."""
    return next((table[cls] for cls in type(module).__mro__ if cls in table), None)


def _label(module: nn.Module, path: str) -> str:
    name = module.name if isinstance(module, Layer) else None
    return name or f"{path or 'model'} ({type(module).__name__})"


# -- one weight: as it is, permuted, or computed ------------------------------------------------
def _as_is(layer: str, name: str, tensor: torch.Tensor) -> KerasWeight:
    shape = tuple(tensor.shape)
    return KerasWeight(layer, name, shape, shape, tensor.detach, tensor.copy_)


def _permuted(layer: str, name: str, tensor: torch.Tensor, dims: tuple[int, ...]) -> KerasWeight:
    inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
    return KerasWeight(
        layer,
        name,
        tuple(tensor.shape[d] for d in dims),
        tuple(tensor.shape),
        lambda: tensor.detach().permute(dims),
        lambda value: tensor.copy_(value.permute(inverse)),
    )


def _kernel_and_bias(layer: str, kernel: torch.Tensor | None, bias: torch.Tensor | None):
    """A torch kernel ``(out, in, *k)`` (Dense, Conv) as Keras' ``(*k, in, out)``, and the bias."""
    if kernel is None:  # not built yet: Keras lists no weights either
        return []
    dims = (*range(2, kernel.dim()), 1, 0)
    weights = [_permuted(layer, "kernel", kernel, dims)]
    return weights if bias is None else [*weights, _as_is(layer, "bias", bias)]


# -- the layouts, by layer class ----------------------------------------------------------------
def _dense_or_conv(layer: Layer, label: str) -> list[KerasWeight]:
    # Conv2DTranspose's torch kernel is (in, filters, kh, kw), Keras' (kh, kw, filters, in): the
    # same permutation as a convolution's.
    return _kernel_and_bias(label, layer.weight, layer.bias)


def _depthwise_kernel(label: str, name: str, kernel: torch.Tensor, multiplier: int) -> KerasWeight:
    # torch (in * multiplier, 1, kh, kw), output channel c * multiplier + j = filter j of channel
    # c; Keras (kh, kw, in, multiplier), the same channel order.
    channels, (height, width) = kernel.shape[0] // multiplier, kernel.shape[2:]
    return KerasWeight(
        label,
        name,
        (height, width, channels, multiplier),
        tuple(kernel.shape),
        lambda: kernel.detach().reshape(channels, multiplier, height, width).permute(2, 3, 0, 1),
        lambda value: kernel.copy_(value.permute(2, 3, 0, 1).reshape(kernel.shape)),
    )


def _depthwise(layer: DepthwiseConv2D, label: str) -> list[KerasWeight]:
    if layer.weight is None:
        return []
    kernel = _depthwise_kernel(label, "kernel", layer.weight, layer.depth_multiplier)
    return [kernel] if layer.bias is None else [kernel, _as_is(label, "bias", layer.bias)]


def _separable(layer: SeparableConv2D, label: str) -> list[KerasWeight]:
    if layer.depthwise_weight is None:
        return []
    depthwise = layer.depthwise_weight
    weights = [
        _depthwise_kernel(label, "depthwise_kernel", depthwise, layer.depth_multiplier),
        _permuted(label, "pointwise_kernel", layer.pointwise_weight, (2, 3, 1, 0)),
    ]
    return weights if layer.bias is None else [*weights, _as_is(label, "bias", layer.bias)]


def _normalization(layer: BatchNormalization | LayerNormalization, label: str) -> list[KerasWeight]:
    named = [("gamma", layer.weight), ("beta", layer.bias)]
    if isinstance(layer, BatchNormalization):
        named += [("moving_mean", layer.running_mean), ("moving_variance", layer.running_var)]
    return [_as_is(label, name, tensor) for name, tensor in named if tensor is not None]


def _embedding(layer: Embedding, label: str) -> list[KerasWeight]:
    return [_as_is(label, "embeddings", layer.weight)]


def _gate_swap(tensor: torch.Tensor, dim: int) -> torch.Tensor:
    """torch's GRU gates (r, z, n) as Keras' (z, r, h) along ``dim``, and back (its own inverse)."""
    reset, update, new = tensor.chunk(3, dim)
    return torch.cat([update, reset, new], dim)


def _recurrent_matrix(label: str, name: str, matrix: torch.Tensor, gru: bool) -> KerasWeight:
    # torch (gates * units, in) -> Keras (in, gates * units), GRU gate blocks reordered
    def read() -> torch.Tensor:
        value = matrix.detach().T
        return _gate_swap(value, 1) if gru else value

    def write(value: torch.Tensor) -> None:
        matrix.copy_((_gate_swap(value, 1) if gru else value).T)

    return KerasWeight(label, name, tuple(matrix.shape[::-1]), tuple(matrix.shape), read, write)


def _recurrent_bias(label: str, input_bias: torch.Tensor, hidden_bias: torch.Tensor, gru: bool):
    size = tuple(input_bias.shape)
    if gru:  # reset_after=True keeps both: rows (input, recurrent)

        def read() -> torch.Tensor:
            return _gate_swap(torch.stack([input_bias.detach(), hidden_bias.detach()]), 1)

        def write(value: torch.Tensor) -> None:
            input_bias.copy_(_gate_swap(value[0], 0))
            hidden_bias.copy_(_gate_swap(value[1], 0))

        return KerasWeight(label, "bias", (2, *size), size, read, write)

    def read_sum() -> torch.Tensor:  # only the sum enters the computation
        return input_bias.detach() + hidden_bias.detach()

    def write_input(value: torch.Tensor) -> None:
        input_bias.copy_(value)
        hidden_bias.zero_()

    return KerasWeight(label, "bias", size, size, read_sum, write_input)


def _recurrent(layer: SimpleRNN | LSTM | GRU, label: str) -> list[KerasWeight]:
    rnn, gru = layer.rnn, layer.kind == "gru"
    if rnn is None:
        return []
    weights = [
        _recurrent_matrix(label, "kernel", rnn.weight_ih_l0, gru),
        _recurrent_matrix(label, "recurrent_kernel", rnn.weight_hh_l0, gru),
    ]
    if layer.use_bias:
        weights.append(_recurrent_bias(label, rnn.bias_ih_l0, rnn.bias_hh_l0, gru))
    return weights


def _reshaped(label: str, name: str, tensor: torch.Tensor, shape: tuple[int, ...]) -> KerasWeight:
    return KerasWeight(
        label,
        name,
        shape,
        tuple(tensor.shape),
        lambda: tensor.detach().reshape(shape),
        lambda value: tensor.copy_(value.reshape(tensor.shape)),
    )


def _einsum_kernel(label: str, name: str, kernel: torch.Tensor, shape: tuple[int, ...]):
    """A torch ``(out, in)`` kernel as the kernel of Keras' EinsumDense: ``kernel.T`` reshaped."""
    return KerasWeight(
        label,
        name,
        shape,
        tuple(kernel.shape),
        lambda: kernel.detach().T.reshape(shape),
        lambda value: kernel.copy_(value.reshape(kernel.shape[::-1]).T),
    )


def _attention(layer: MultiHeadAttention, label: str) -> list[KerasWeight]:
    if layer.output_dense is None or layer.output_dense.weight is None:
        return []
    heads, weights = layer.num_heads, []
    for name in ("query", "key", "value"):  # (heads * dim, in) -> (in, heads, dim)
        kernel, bias = getattr(layer, f"{name}_dense").weight, getattr(layer, f"{name}_dense").bias
        units, features = kernel.shape
        shape = (features, heads, units // heads)
        weights.append(_einsum_kernel(label, f"{name}/kernel", kernel, shape))
        if bias is not None:
            weights.append(_reshaped(label, f"{name}/bias", bias, shape[1:]))
    kernel, bias = layer.output_dense.weight, layer.output_dense.bias
    outputs, features = kernel.shape  # (out, heads * value_dim) -> (heads, value_dim, out)
    shape = (heads, features // heads, outputs)
    weights.append(_einsum_kernel(label, "attention_output/kernel", kernel, shape))
    return weights if bias is None else [*weights, _as_is(label, "attention_output/bias", bias)]


def _adapted_statistics(layer: Normalization, label: str) -> list[KerasWeight]:
    """Keras' adapted Normalization: mean, variance and the count of samples seen (ember keeps
    no count: it reads as 0 and is ignored when written)."""
    if not layer.learns_statistics or layer.mean is None:
        return []
    count = KerasWeight(
        label, "count", (), (), lambda: torch.tensor(0, dtype=torch.int64), lambda value: None
    )
    return [_as_is(label, "mean", layer.mean), _as_is(label, "variance", layer.variance), count]


_LAYOUTS: dict[type, Callable[..., list[KerasWeight]]] = {
    Normalization: _adapted_statistics,
    Dense: _dense_or_conv,
    Conv1D: _dense_or_conv,
    Conv2D: _dense_or_conv,
    Conv3D: _dense_or_conv,
    Conv2DTranspose: _dense_or_conv,
    DepthwiseConv2D: _depthwise,
    SeparableConv2D: _separable,
    BatchNormalization: _normalization,
    LayerNormalization: _normalization,
    Embedding: _embedding,
    SimpleRNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
    MultiHeadAttention: _attention,
}

# KerasHub builds its blocks' sublayers in this order (keras_hub/src/layers/modeling/
# transformer_encoder.py and transformer_decoder.py), which is the order of their weights.
_BLOCK_ORDER = {
    TransformerEncoder: (
        "self_attention",
        "self_attention_layer_norm",
        "feedforward_layer_norm",
        "feedforward_intermediate_dense",
        "feedforward_output_dense",
    ),
    TransformerDecoder: (
        "self_attention",
        "self_attention_layer_norm",
        "cross_attention",
        "cross_attention_layer_norm",
        "feedforward_intermediate_dense",
        "feedforward_output_dense",
        "feedforward_layer_norm",
    ),
}
