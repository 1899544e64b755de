"""Keras masks on a model's outputs, so that a task's loss and metrics skip padded steps.

ember's models hand a mask from layer to layer (``Embedding(mask_zero=True)`` starts it, see
``ember.layers.base.Layer.uses_mask``) but return only the output tensor. Keras keeps each
tensor's mask on the tensor itself (``tensor._keras_mask``), and its losses and metrics read the
mask off the model's output. :func:`track_masks` does the same for an ember module: a forward
hook on each of its layers gives the layer's output tensor the mask ``compute_mask`` says it
has, so that :func:`output_mask` reads it off the model's output, as Keras' losses do. A task
tracks masks only for a model whose output carries one; other models get no hook.
:func:`step_weights` gives each step of such an output its sample and class weights.

Example:
    >>> import torch, ember
    >>> from ember import layers
    >>> model = ember.Sequential([layers.Embedding(10, 4, mask_zero=True),
    ...                           layers.Dense(3)])
    >>> track_masks(model)
    True
    >>> output_mask(model(torch.tensor([[5, 2, 0]]))).tolist()
    [[True, True, False]]
    >>> untrack_masks(model)
    >>> output_mask(model(torch.tensor([[5, 2, 0]]))) is None
    True
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from ember.layers.base import Layer
from ember.losses import step_weights as sample_weights_per_step

# Keras' name for the attribute holding a tensor's mask (keras.src.backend.common.masking).
MASK_ATTRIBUTE = "_keras_mask"

# The hook of each tracked layer, so that tracking a module twice adds no second hook.
_HOOKS: weakref.WeakKeyDictionary[nn.Module, RemovableHandle] = weakref.WeakKeyDictionary()


def makes_mask(module: nn.Module) -> bool:
    """Whether any layer of ``module`` starts a mask (``Embedding(mask_zero=True)`` ...).

    Example:
        >>> from ember import layers
        >>> makes_mask(layers.Embedding(10, 4)), makes_mask(layers.Embedding(10, 4, mask_zero=True))
        (False, True)
    """
    return any(isinstance(m, Layer) and m.makes_mask() for m in module.modules())


def track_masks(module: nn.Module) -> bool:
    """Make every layer of ``module`` put its output's mask on its output tensor (Keras'
    ``_keras_mask``); returns whether ``module`` makes a mask at all (no hook when it does not).
    """
    if not makes_mask(module):
        return False
    for layer in module.modules():
        if isinstance(layer, Layer) and layer not in _HOOKS:
            _HOOKS[layer] = layer.register_forward_hook(_carry_mask, with_kwargs=True)
    return True


def untrack_masks(module: nn.Module) -> None:
    """Remove the hooks :func:`track_masks` gave ``module``'s layers."""
    for layer in module.modules():
        handle = _HOOKS.pop(layer, None)
        if handle is not None:
            handle.remove()


def output_mask(outputs: Any) -> torch.Tensor | None:
    """The boolean mask ``(N, steps)`` a tracked model's output carries, or None.

    Example:
        >>> output_mask(torch.zeros(2, 3)) is None
        True
    """
    return getattr(outputs, MASK_ATTRIBUTE, None) if isinstance(outputs, torch.Tensor) else None


def step_weights(
    mask: torch.Tensor,
    y: torch.Tensor,
    sample_weight: torch.Tensor | None,
    class_weights: torch.Tensor | None,
) -> torch.Tensor | None:
    """The weight of each step of a masked output ``(N, steps)``: its sample's weight (or its
    own, for per-step weights) times the class weight of its label; None without either.

    One label per step, so each step weighs its own class: Keras 3 gives each sample the class
    weight of an argmax over its steps instead, which then fails against the mask.

    Example:
        >>> mask = torch.ones(1, 3, dtype=torch.bool)
        >>> step_weights(mask, torch.tensor([[0, 1, 1]]), None, torch.tensor([2.0, 0.5])).tolist()
        [[2.0, 0.5, 0.5]]
    """
    if class_weights is None:
        return sample_weight
    labels = y
    if y.shape != mask.shape:  # (N, steps, 1) labels or (N, steps, classes) one-hot ones
        labels = y.squeeze(-1) if y.shape[-1] == 1 else y.argmax(-1)
    weights = class_weights[labels.long()]
    if sample_weight is not None:
        weights = weights * sample_weights_per_step(sample_weight, mask)
    return weights


def _carry_mask(layer: Layer, args: tuple, kwargs: dict, output: Any) -> None:
    # The layer's input mask: the one the model passed (layers with uses_mask), else the one its
    # input carries. Models only propagate masks through one-tensor calls; so does this.
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or not isinstance(output, torch.Tensor):
        return
    mask = kwargs.get("mask")
    if mask is None:
        mask = getattr(x, MASK_ATTRIBUTE, None)
    out_mask = layer.compute_mask(x, mask)
    # A layer returning its input as it is (Dropout at inference) may still drop the mask.
    if out_mask is not None or getattr(output, MASK_ATTRIBUTE, None) is not None:
        setattr(output, MASK_ATTRIBUTE, out_mask)
