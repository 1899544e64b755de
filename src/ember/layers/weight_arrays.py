"""Keras' ``get_weights``/``set_weights``: a model's weights as numpy arrays, in Keras' order and
layouts (see :mod:`ember.layers.keras_weights`), so that ``ember_model.set_weights(
keras_model.get_weights())`` moves a Keras model's weights into the same ember model, and back.

Layer by layer, in the model's order, each layer's weights as Keras lists them: a Dense kernel
is ``(in, units)``, a Conv2D kernel ``(kh, kw, in, filters)``, an LSTM has one bias. Modules that
are not ember layers keep PyTorch's layout and ``state_dict`` order. PyTorch-layout tensors (a
``state_dict``) load with ``model.load_state_dict(...)``, or ``load_weights(path)`` for a file.

Example:
    >>> import torch
    >>> from ember import layers
    >>> net = torch.nn.Sequential(layers.Dense(2), torch.nn.Linear(2, 4))
    >>> _ = net(torch.zeros(1, 3))
    >>> arrays = get_weights(net)
    >>> [a.shape for a in arrays]  # Keras' Dense kernel (in, units); torch's Linear (out, in)
    [(3, 2), (2,), (4, 2), (4,)]
    >>> set_weights(net, [a * 0 for a in arrays])
    >>> float(net[0].weight.detach().abs().sum())
    0.0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ember.errors import WeightsMismatchError
from ember.layers.base import Layer
from ember.layers.keras_weights import KerasWeight, keras_weights

_FIX = (
    "Fix: pass the list from get_weights() of the same architecture (a Keras model's or ember's)."
)
_TORCH = (
    "tensors in PyTorch's layout (a state_dict) load with model.load_state_dict(state_dict), "
    "or model.load_weights(path) for a file written by save_weights"
)


def get_weights(module: nn.Module) -> list[np.ndarray]:
    """Copies of every weight of ``module``, in Keras' order and layouts."""
    return [weight.read().cpu().numpy().copy() for weight in keras_weights(module)]


def set_weights(module: nn.Module, arrays: Sequence[np.ndarray]) -> None:
    """Load arrays in Keras' order and layouts (from :func:`get_weights`, or a Keras model's).

    Every count and shape is checked before any weight changes; a mismatch raises
    :class:`~ember.errors.WeightsMismatchError` naming the layer, the expected and the received
    shapes.
    """
    weights = keras_weights(module)
    arrays = [np.asarray(array) for array in arrays]
    if len(arrays) != len(weights):
        raise WeightsMismatchError(_count_message(module, weights, len(arrays)))
    wrong = [_shape_message(w, a.shape) for w, a in zip(weights, arrays) if a.shape != w.shape]
    if wrong:
        more = f" (and {len(wrong) - 8} more)" if len(wrong) > 8 else ""
        raise WeightsMismatchError(
            "set_weights received arrays of the wrong shape: "
            + "; ".join(wrong[:8])
            + f"{more}. {_FIX}"
        )
    with torch.no_grad():
        for weight, array in zip(weights, arrays):
            weight.write(torch.tensor(array))


def _count_message(module: nn.Module, weights: list[KerasWeight], received: int) -> str:
    listed = ", ".join(f"{w.layer} {w.name} {w.shape}" for w in weights[:8])
    listed += " ..." if len(weights) > 8 else ""
    message = (
        f"set_weights received {received} arrays, but the model has {len(weights)} weights, in "
        f"Keras' order: {listed or 'none'}. {_FIX}"
    )
    tensors = sum(1 for t in module.state_dict().values() if t.is_floating_point())
    if received == tensors != len(weights):
        message += f" ({received} is the number of tensors in the model's state_dict: {_TORCH}.)"
    return message


def _shape_message(weight: KerasWeight, received: tuple[int, ...]) -> str:
    message = (
        f"layer {weight.layer} weight {weight.name} has shape {weight.shape} in Keras' layout, "
        f"received shape {received}"
    )
    if received == weight.torch_shape != weight.shape:
        message += f" (PyTorch's layout of that weight: {_TORCH})"
    return message


# layer.get_weights() / layer.set_weights(), as in Keras, call this module's functions.
Layer.weight_arrays = sys.modules[__name__]
