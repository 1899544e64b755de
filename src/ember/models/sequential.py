"""``Sequential``: a stack of layers, Keras-style, that is also a plain ``nn.Module``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer, reset_states
from ember.layers.symbolic import KerasTensor
from ember.models.call_arguments import per_sample_shape
from ember.models.devices import device_of
from ember.models.model import Model
from ember.models.naming import find_layer, snake_case
from ember.models.saving import save_model
from ember.models.serialization import sequential_config

# The activations a following cross-entropy can absorb (see ``losses.logits_version``).
_FUSABLE = {nn.Softmax: "softmax", nn.Sigmoid: "sigmoid"}


class Sequential(Model):
    """Layers applied one after another; ``compile``/``fit``/``evaluate``/``predict`` as in Keras.

    Layers may be ember layers or any ``nn.Module``. Each ember layer gets a Keras-style name
    (``dense``, ``dense_1``, ...) unless it has one.

    Example:
        >>> from ember import layers, models
        >>> model = models.Sequential([
        ...     layers.Flatten(input_shape=(28, 28)),
        ...     layers.Dense(128, activation="relu"),
        ...     layers.Dropout(0.2),
        ...     layers.Dense(10, activation="softmax"),
        ... ])
        >>> model.count_params()
        101770
    """

    def __init__(self, layers: Iterable[nn.Module] | None = None, name: str | None = None) -> None:
        super().__init__(name=name or "sequential")
        self.layers = nn.ModuleList()
        self.declared_input_shape: tuple[int | None, ...] | None = None  # from an ember.Input
        self._names: dict[str, int] = {}
        if isinstance(layers, nn.ModuleList):  # another model's layers (Keras: model.layers)
            layers = list(layers)
        if layers is not None and (
            isinstance(layers, nn.Module) or not isinstance(layers, Iterable)
        ):
            raise ConfigError(
                f"Sequential takes a list of layers, received {type(layers).__name__}. "
                f"Fix: Sequential([layer1, layer2, ...])."
            )
        for layer in layers or []:
            self.add(layer)
        self._build_if_shape_known()

    def add(self, layer: nn.Module | KerasTensor) -> None:
        """Append a layer (an ember layer or any ``nn.Module``). An ``ember.Input(shape=...)``
        first gives the model its input shape, as in Keras 3."""
        if isinstance(layer, KerasTensor):
            if len(self.layers) or layer.node is not None:
                raise ConfigError(
                    "an Input can only start a Sequential model. Fix: put ember.Input(shape=...) "
                    "first in the list, or use the functional API (ember.Model(inputs, outputs))."
                )
            self.declared_input_shape = layer.shape[1:]
            return
        if not isinstance(layer, nn.Module):
            hint = " (a class: did you forget the parentheses?)" if isinstance(layer, type) else ""
            raise ConfigError(
                f"Sequential layers must be nn.Modules, received {layer!r}{hint}. "
                f"Fix: e.g. layers.Dense(10) or torch.nn.ReLU()."
            )
        if isinstance(layer, Layer) and layer.name is None:
            layer.name = self._unique_name(snake_case(type(layer).__name__))
        self.layers.append(layer)

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name (``"dense_1"``) or position, as in Keras."""
        return find_layer(self.layers, name, index)

    def pop(self) -> nn.Module:
        """Remove and return the last layer."""
        if not len(self.layers):
            raise ConfigError("pop() on an empty Sequential model")
        layer = self.layers[-1]
        del self.layers[-1]
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._makes_mask():
            x, _ = self._masked(x, self.layers._modules.values())
            return x
        for layer in self.layers:
            x = layer(x)
        return x

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The output before the final softmax/sigmoid (so the loss can be computed stably)."""
        # Unpack the module dict: slicing a ModuleList builds a new ModuleList on every call.
        *body, last = self.layers._modules.values()
        mask = None
        if self._makes_mask():
            x, mask = self._masked(x, body)
        else:
            for layer in body:
                x = layer(x)
        if mask is not None and getattr(last, "uses_mask", False):
            if not last.built:
                last.build_from_input(x)
            return last.call(x, mask=mask)
        if isinstance(last, Layer) and last.activation is not None:
            if not last.built:
                last.build_from_input(x)
            return last.call(x)
        return x if type(last) in _FUSABLE else last(x)  # skip a bare nn.Softmax/nn.Sigmoid

    def _makes_mask(self) -> bool:
        # Checked per call (a few attribute reads) so that setting mask_zero later still counts.
        return any(isinstance(m, Layer) and m.makes_mask() for m in self.layers._modules.values())

    @staticmethod
    def _masked(
        x: torch.Tensor, layers: Iterable[nn.Module]
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Run ``layers`` passing Keras masks along: see ``Layer.uses_mask``."""
        mask = None
        for layer in layers:
            if mask is not None and getattr(layer, "uses_mask", False):
                y = layer(x, mask=mask)
            else:
                y = layer(x)
            mask = layer.compute_mask(x, mask) if isinstance(layer, Layer) else None
            x = y
        return x, mask

    def final_activation(self) -> str | None:
        if not len(self.layers):
            return None
        last = self.layers[-1]
        # An ember layer keeps its activation (an Activation layer: its only function) apart.
        function = last.activation if isinstance(last, Layer) else last
        name = _FUSABLE.get(type(function))
        return name if name and getattr(function, "dim", -1) in (-1, None) else None

    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (see :func:`ember.models.load_model`)."""
        return sequential_config(self)

    def save(self, path: str | Path) -> None:
        """Save architecture (``config.json``) and weights (``model.safetensors``) in a folder;
        a name ending in ``.keras`` writes Keras' model archive instead (Keras 3 loads it)."""
        self.ensure_built()
        if Path(path).suffix == ".keras":
            self.keras_files["save"](self, path)
            return
        save_model(self, path)

    def _unique_name(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def _build_if_shape_known(self) -> None:
        first = self.layers[0] if len(self.layers) else None
        shape = getattr(first, "input_shape", None)
        if self.declared_input_shape is not None and isinstance(first, Layer):
            shape = first.input_shape = self.declared_input_shape  # checked against the data
        unbuilt = any(isinstance(m, Layer) and not m.built for m in self.layers)
        if shape is not None and None not in shape and unbuilt:
            self.build(shape)

    def ensure_built(self) -> None:
        self._build_if_shape_known()

    def build(self, input_shape: tuple[int | None, ...] | None = None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (Keras' build): Keras'
        ``(None, 28, 28)`` with the batch size first, or the per-sample ``(28, 28)``. Without
        it, the shape the model declares (an ``ember.Input`` first, or ``input_shape=`` on its
        first layer) is used, as in Keras."""
        if input_shape is None:
            first = self.layers[0] if len(self.layers) else None
            input_shape = self.declared_input_shape or getattr(first, "input_shape", None)
            if input_shape is None:
                raise ShapeError(
                    "build() needs an input shape, and this model declares none. Fix: "
                    "model.build((None, 28, 28)), or start it with ember.Input(shape=(28, 28))."
                )
        # Keras' (None, 28, 28) or ember's per-sample (28, 28); a None inside (a sequence
        # length) builds with any size.
        sizes = [5 if size is None else size for size in per_sample_shape(input_shape)]
        was_training = self.training
        self.eval()
        dtype = getattr(self.layers[0], "input_dtype", torch.float32)
        with torch.no_grad():
            self(torch.zeros(2, *sizes, dtype=dtype, device=device_of(self)))
        self.train(was_training)
        reset_states(self)
