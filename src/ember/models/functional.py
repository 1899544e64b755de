"""Keras' functional API: ``Model(inputs, outputs)`` runs the graph its layers were called in.

``ember.Model(inputs, outputs)`` (with :class:`KerasTensor` arguments) returns a
:class:`Functional` model: a plain ``nn.Module`` whose ``forward`` replays the recorded calls in
order, with several inputs and outputs (lists or dicts), shared layers and nested models. It
trains on the same engine as every model, through ``compile``/``fit``.

Example:
    >>> import ember
    >>> from ember import layers
    >>> inputs = ember.Input(shape=(784,))
    >>> x = layers.Dense(64, activation="relu")(inputs)
    >>> outputs = layers.Dense(10, activation="softmax")(x)
    >>> model = ember.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    >>> type(model).__name__, model.count_params()
    ('Functional', 50890)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, DataError, ShapeError
from ember.layers.base import Layer, shape_matches
from ember.layers.symbolic import KerasTensor, Node, TorchFunction, flatten, is_symbolic, replace
from ember.models.functional_graph import graph_config
from ember.models.model import Model
from ember.models.naming import find_layer, snake_case
from ember.models.saving import save_model

# The activations a following cross-entropy can absorb (see ``losses.logits_version``).
_FUSABLE = {nn.Softmax: "softmax", nn.Sigmoid: "sigmoid"}


class _Step:
    """One node, ready to run: the layer, where its arguments come from, where outputs go."""

    __slots__ = ("layer", "args", "kwargs", "single", "outputs", "training", "node")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.layer = node.layer
        kwargs = dict(node.kwargs)
        self.training = kwargs.pop("training", None)
        # The common case, one tensor in and no keywords, reads one dict entry.
        one = len(node.args) == 1 and isinstance(node.args[0], KerasTensor) and not kwargs
        self.single = node.args[0].id if one else None
        self.args = replace(node.args, lambda t: _Slot(t.id))
        self.kwargs = replace(kwargs, lambda t: _Slot(t.id))
        self.outputs = replace(node.outputs, lambda t: _Slot(t.id))


class _Slot:
    __slots__ = ("id",)

    def __init__(self, id: int) -> None:
        self.id = id


def _fill(structure: Any, values: dict[int, Any]) -> Any:
    if isinstance(structure, _Slot):
        return values[structure.id]
    if isinstance(structure, (list, tuple)):
        items = [_fill(item, values) for item in structure]
        return items if isinstance(structure, list) else tuple(items)
    if isinstance(structure, dict):
        return {key: _fill(item, values) for key, item in structure.items()}
    return structure


def _store(structure: Any, result: Any, values: dict[int, Any]) -> None:
    if isinstance(structure, _Slot):
        values[structure.id] = result
    elif isinstance(structure, (list, tuple)):
        for item, value in zip(structure, result):
            _store(item, value, values)
    elif isinstance(structure, dict):
        for key, item in structure.items():
            _store(item, result[key], values)


class Functional(Model):
    """A model drawn by calling layers on ``ember.Input`` tensors (Keras' functional API).

    Make it with ``ember.Model(inputs, outputs)``. ``inputs`` and ``outputs`` are a symbolic
    tensor, a list of them or a dict of them; the model is called with (and returns) the same
    structure of real tensors.

    Example:
        >>> import torch, ember
        >>> from ember import layers
        >>> image, meta = ember.Input(shape=(8,), name="image"), ember.Input(shape=(2,), name="meta")
        >>> x = layers.concatenate([layers.Dense(4)(image), meta])
        >>> model = ember.Model([image, meta], layers.Dense(1)(x))
        >>> model([torch.ones(3, 8), torch.ones(3, 2)]).shape
        torch.Size([3, 1])
    """

    def __init__(
        self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True
    ) -> None:
        super().__init__(name=name or "functional")
        _check_structure(inputs, "inputs")
        _check_structure(outputs, "outputs")
        self.inputs = inputs
        self.outputs = outputs
        self._input_list = flatten(inputs)
        for tensor in self._input_list:
            if tensor.node is not None:
                raise ConfigError(
                    f"model inputs must come from ember.Input(...); {tensor.name} is the output "
                    f"of layer {_label(tensor.node.layer)!r}. Fix: pass the Input tensor it "
                    f"was computed from."
                )
        nodes = _nodes_between(self._input_list, flatten(outputs))
        layers: list[nn.Module] = []
        for node in nodes:
            if all(node.layer is not known for known in layers):
                layers.append(node.layer)
        _name_layers(layers)
        self.layers = nn.ModuleList(layers)
        self._steps = [_Step(node) for node in nodes]
        self._input_ids = [tensor.id for tensor in self._input_list]
        self._output_slots = replace(outputs, lambda t: _Slot(t.id))
        self._input_names = [tensor.name for tensor in self._input_list]
        if not trainable:
            self.trainable = False

    # -- running the graph --------------------------------------------------------------------
    def forward(self, inputs: Any) -> Any:
        return self._run(inputs, logits=False)

    def logits(self, inputs: Any) -> Any:
        """The output before the final softmax/sigmoid (so the loss can be computed stably)."""
        return self._run(inputs, logits=True)

    def _run(self, inputs: Any, logits: bool) -> Any:
        values = self._bind(inputs)
        masks: dict[int, torch.Tensor] | None = {} if self._makes_mask() else None
        last = len(self._steps) - 1
        for index, step in enumerate(self._steps):
            layer = step.layer
            if masks is not None and step.single is not None:
                result = self._masked_step(step, values, masks)
            elif logits and index == last:
                result = layer.call(values[step.single])  # see final_activation()
            elif step.single is not None and step.training is None:
                result = layer(values[step.single])
            else:
                args, kwargs = _fill(step.args, values), _fill(step.kwargs, values)
                if step.training is None:
                    result = layer(*args, **kwargs)
                else:
                    result = _call_in_mode(layer, step.training, args, kwargs)
            _store(step.outputs, result, values)
        return _fill(self._output_slots, values)

    def _masked_step(self, step: _Step, values: dict, masks: dict) -> Any:
        layer, x = step.layer, values[step.single]
        mask = masks.get(step.single)
        if mask is not None and getattr(layer, "uses_mask", False):
            result = layer(x, mask=mask)
        else:
            result = (
                layer(x) if step.training is None else _call_in_mode(layer, step.training, (x,), {})
            )
        if isinstance(layer, Layer) and isinstance(step.outputs, _Slot):
            out_mask = layer.compute_mask(x, mask)
            if out_mask is not None:
                masks[step.outputs.id] = out_mask
        return result

    def _makes_mask(self) -> bool:
        return any(isinstance(m, Layer) and m.makes_mask() for m in self.layers)

    def _bind(self, inputs: Any) -> dict[int, Any]:
        ids = self._input_ids
        if isinstance(inputs, torch.Tensor):
            if len(ids) != 1:
                raise DataError(
                    f"model {self.name!r} has {len(ids)} inputs ({', '.join(self._input_names)}), "
                    f"received one tensor. Fix: pass a list of {len(ids)} arrays, or a dict "
                    f"keyed by the Input names."
                )
            return {ids[0]: inputs}
        if isinstance(inputs, dict):
            missing = [name for name in self._input_names if name not in inputs]
            if missing:
                raise DataError(
                    f"model {self.name!r} takes inputs named {self._input_names}, the dict "
                    f"lacks {missing}. Fix: key the data by the Input names."
                )
            return {i: inputs[name] for i, name in zip(ids, self._input_names)}
        if isinstance(inputs, (list, tuple)) and len(inputs) == len(ids):
            return dict(zip(ids, inputs))
        received = len(inputs) if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise DataError(
            f"model {self.name!r} has {len(ids)} inputs ({', '.join(self._input_names)}), "
            f"received {received}. Fix: pass one array per Input, in the order of `inputs`."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*args, **kwargs)

    # -- Keras' model API ---------------------------------------------------------------------
    def final_activation(self) -> str | None:
        """``"softmax"``/``"sigmoid"`` when one output comes from a layer that ends in it."""
        if not isinstance(self._output_slots, _Slot) or not self._steps:
            return None
        step = self._steps[-1]
        layer = step.layer
        if not (isinstance(layer, Layer) and isinstance(step.outputs, _Slot)):
            return None
        if step.outputs.id != self._output_slots.id or step.single is None:
            return None
        if step.training is not None or self._makes_mask():
            return None
        name = _FUSABLE.get(type(layer.activation))
        return name if name and getattr(layer.activation, "dim", -1) in (-1, None) else None

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name (``"dense_1"``) or position, as in Keras."""
        return find_layer(self.layers, name, index)

    def check_input(self, x: Any) -> None:
        """Compare data with the ``Input`` shapes before any work (Keras' input check)."""
        arrays = x if isinstance(x, (list, tuple)) else [x]
        if isinstance(x, dict):
            arrays = [x.get(name) for name in self._input_names]
        for tensor, array in zip(self._input_list, arrays):
            if array is None or not hasattr(array, "shape"):
                continue
            expected, received = tensor.shape[1:], tuple(array.shape[1:])
            if not shape_matches(expected, received):
                raise ShapeError(
                    f"input {tensor.name!r} of model {self.name!r} expects per-sample shape "
                    f"{expected}, received {received} (batch shape {tuple(array.shape)}). Fix: "
                    f"reshape the data to {expected}, or change Input(shape=...)."
                )

    @property
    def input_shape(self) -> Any:
        """Keras' ``input_shape``: the Input shapes, batch size None."""
        shapes = [t.shape for t in self._input_list]
        return shapes[0] if isinstance(self.inputs, KerasTensor) else shapes

    @property
    def output_shape(self) -> Any:
        """Keras' ``output_shape``."""
        return replace(self.outputs, lambda t: t.shape)

    @property
    def output_names(self) -> list[str]:
        """The outputs' names: the dict keys, or the names of the layers that make them."""
        if isinstance(self.outputs, dict):
            return list(self.outputs)
        names = [_label(t.node.layer) if t.node else t.name for t in flatten(self.outputs)]
        return names

    def nodes(self) -> list[Node]:
        """The recorded calls, in the order ``forward`` runs them."""
        return [step.node for step in self._steps]

    def get_config(self) -> dict[str, Any]:
        """The graph as JSON-ready data (see :func:`ember.models.load_model`)."""
        return graph_config(self)

    def build(self, input_shape: Any = None) -> None:
        """Nothing to do: a functional model is built when it is drawn."""

    def save(self, path: str | Path) -> None:
        """Save the graph (``config.json``) and weights (``model.safetensors``) in a folder;
        :func:`ember.models.load_model` reads it back. A name ending in ``.keras`` writes Keras'
        model archive instead (Keras 3 loads it)."""
        if Path(path).suffix == ".keras":
            self.keras_files["save"](self, path)
            return
        save_model(self, path)


def _name_layers(layers: list[nn.Module]) -> None:
    """Give each unnamed layer Keras' name (``dense``, ``dense_1``...), unique in the model.

    A default name that clashes (two models both called ``functional``) gets a suffix; two
    layers a user named alike are an error, as in Keras.
    """
    used: set[str] = set()
    for layer in layers:
        name = getattr(layer, "name", None)
        default = snake_case(type(layer).__name__)
        automatic = name is None or name == default or isinstance(layer, TorchFunction)
        if name is not None and name not in used:
            used.add(name)
            continue
        if not automatic:
            raise ConfigError(
                f"two layers of the model are named {name!r}. Fix: give each layer its own "
                f"name (layer names must be unique, as in Keras)."
            )
        base, count = name or default, 1
        name = base
        while name in used:
            name, count = f"{base}_{count}", count + 1
        layer.name = name
        used.add(name)


def _call_in_mode(layer: nn.Module, training: bool, args: tuple, kwargs: dict) -> Any:
    was_training = layer.training
    if bool(training) == was_training:
        return layer(*args, **kwargs)
    layer.train(bool(training))
    try:
        return layer(*args, **kwargs)
    finally:
        layer.train(was_training)


def _label(layer: Any) -> str:
    return getattr(layer, "name", None) or type(layer).__name__


def _check_structure(structure: Any, what: str) -> None:
    leaves = flatten(structure)
    plain = isinstance(structure, KerasTensor) or (
        isinstance(structure, (list, tuple, dict)) and leaves and is_symbolic(structure)
    )
    bad = (
        [
            item
            for item in (structure.values() if isinstance(structure, dict) else structure)
            if not isinstance(item, KerasTensor)
        ]
        if isinstance(structure, (list, tuple, dict))
        else []
    )
    if not plain or bad:
        example = bad[0] if bad else structure
        raise ConfigError(
            f"Model {what} must be symbolic tensors (from ember.Input and layers called on "
            f"them), or a list or dict of them; received {type(example).__name__}. Fix: "
            f"inputs = ember.Input(shape=...); outputs = layers.Dense(...)(inputs); "
            f"ember.Model(inputs, outputs)."
        )


def _nodes_between(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The nodes that compute ``outputs`` from ``inputs``, in an order that runs (post-order)."""
    input_ids = {t.id for t in inputs}
    order: list[Node] = []
    seen: set[int] = set()
    reached: set[int] = set()

    def visit(tensor: KerasTensor, path: tuple[str, ...]) -> None:
        if tensor.id in input_ids:
            reached.add(tensor.id)
            return
        node = tensor.node
        if node is None:
            raise ConfigError(
                f"output {path[0]} depends on Input {tensor.name!r}, which is not in the "
                f"model's inputs. Fix: add it to inputs=[...]."
            )
        if id(node) in seen:
            return
        for parent in node.input_tensors():
            visit(parent, path)
        seen.add(id(node))
        order.append(node)

    for output in outputs:
        visit(output, (output.name,))
    unused = [t.name for t in inputs if t.id not in reached]
    if unused:
        raise ConfigError(
            f"input {unused[0]!r} does not reach any output of the model. Fix: use it in the "
            f"graph, or remove it from inputs=[...]."
        )
    return order


Model.functional_class = Functional
