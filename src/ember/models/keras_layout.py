"""Where Keras 3 keeps each weight in an HDF5 weights file, and Keras' order of a model's layers.

Keras writes ``model.weights.h5`` (inside a ``.keras`` archive) and ``.weights.h5`` files by
walking the model: the model's layers go under ``layers/<name>/``, where ``<name>`` is the layer
class in snake case, numbered per class in the order of ``model.layers`` (``dense``,
``dense_1``, ...: not the layer's own name); a layer's variables are datasets ``vars/0``,
``vars/1``, ... in the order Keras lists them; a layer's sublayers sit under the attribute that
holds them (an LSTM's under ``cell/``, a Bidirectional's under ``forward_layer/`` and
``backward_layer/``, a nested model's under ``layers/``). See ``_save_state`` in Keras'
``keras/src/saving/saving_lib.py``.

:func:`keras_weight_paths` gives every weight of an ember model its Keras path, with the
:class:`~ember.models.keras_weights.KerasWeight` that reads and writes it in Keras' layout.
Keras orders a functional model's layers by depth in the graph (``map_graph`` in
``keras/src/ops/function.py``); :func:`keras_layer_order` repeats that, so that Keras finds the
weights ember writes where it looks for them.

Example:
    >>> import ember
    >>> from ember import layers
    >>> inputs = ember.Input(shape=(3,))
    >>> model = ember.Model(inputs, layers.Dense(2, name="out")(layers.Dense(4)(inputs)))
    >>> [(path, weight.shape) for path, weight in keras_weight_paths(model)]
    [('layers/dense/vars/0', (3, 4)), ('layers/dense/vars/1', (4,)), ('layers/dense_1/vars/0', (4, 2)), ('layers/dense_1/vars/1', (2,))]
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from torch import nn

from ember.errors import SaveError
from ember.layers.attention import MultiHeadAttention
from ember.layers.bidirectional import Bidirectional
from ember.layers.keras_weights import KerasWeight, keras_weights
from ember.layers.recurrent import GRU, LSTM, SimpleRNN
from ember.layers.symbolic import KerasTensor
from ember.layers.wrappers import TimeDistributed
from ember.models.model import Model
from ember.models.naming import snake_case

# MultiHeadAttention's weights are named "query/kernel", ...; Keras keeps each projection in
# the sublayer attribute named here.
_ATTENTION_SUBLAYERS = {
    "query": "query_dense",
    "key": "key_dense",
    "value": "value_dense",
    "attention_output": "output_dense",
}


def keras_weight_paths(
    model: nn.Module, config: dict[str, Any] | None = None
) -> list[tuple[str, KerasWeight]]:
    """Every weight of a Sequential or functional ``model`` with its path in Keras' HDF5 file.

    ``config`` is the model's Keras config (a ``.keras`` archive's ``config.json``): when given,
    its layer order numbers the layers, as Keras does when it reads the file; otherwise the order
    is Keras' own for the graph (:func:`keras_layer_order`).
    """
    return _model_paths(model, "", config)


def keras_layer_order(model: Any) -> list[nn.Module]:
    """The layers of a functional model in Keras' ``model.layers`` order (Input layers aside).

    Keras sorts layers by depth (the longest path to an output), deepest first, then by when a
    depth-first walk from the outputs first meets them.
    """
    visit_order: dict[int, int] = {}  # id(layer) -> when the walk first met it
    finished: set[int] = set()
    nodes: list[Any] = []  # inputs to outputs

    def visit(tensor: KerasTensor) -> None:
        node = tensor.node
        if node is None or id(node) in finished:  # an Input, or a node already walked
            return
        visit_order.setdefault(id(node.layer), len(visit_order))
        for parent in keras_flatten((node.args, node.kwargs)):
            visit(parent)
        finished.add(id(node))
        nodes.append(node)

    for output in keras_flatten(model.outputs):
        visit(output)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in keras_flatten((node.args, node.kwargs)):
            if parent.node is not None:
                node_depth[id(parent.node)] = max(depth + 1, node_depth.get(id(parent.node), 0))
    layers = {id(node.layer): node.layer for node in nodes}
    return sorted(
        layers.values(), key=lambda layer: (-layer_depth[id(layer)], visit_order[id(layer)])
    )


def is_functional(model: Any) -> bool:
    """Whether ``model`` is a functional (graph) model: one that records its calls as nodes."""
    return isinstance(model, Model) and callable(getattr(model, "nodes", None))


def keras_class_name(module: nn.Module) -> str:
    """The class name Keras gives ``module``: ``"Functional"`` for a graph model."""
    return "Functional" if is_functional(module) else type(module).__name__


def _model_paths(model: nn.Module, prefix: str, config: dict[str, Any] | None):
    counts: dict[str, int] = defaultdict(int)
    paths: list[tuple[str, KerasWeight]] = []
    for layer, layer_config in _layers_with_configs(model, config):
        base = snake_case(keras_class_name(layer))
        name = base if counts[base] == 0 else f"{base}_{counts[base]}"
        counts[base] += 1
        paths += _layer_paths(layer, f"{prefix}layers/{name}/", layer_config)
    return paths


def _layers_with_configs(model: nn.Module, config: dict[str, Any] | None):
    layers = getattr(model, "layers", None)
    if not isinstance(model, Model) or layers is None:
        raise SaveError(
            f"Keras' weight files hold Sequential and functional models; received a "
            f"{type(model).__name__}, whose layers Keras would find by attribute name. Fix: save "
            f"its weights with model.save_weights('weights.safetensors')."
        )
    if config is None:
        ordered = keras_layer_order(model) if is_functional(model) else list(layers)
        return [(layer, None) for layer in ordered]
    entries = [e for e in config["config"]["layers"] if e["class_name"] != "InputLayer"]
    if is_functional(model):
        return [(model.get_layer(e.get("name") or e["config"]["name"]), e) for e in entries]
    return list(zip(layers, entries))


def _layer_paths(layer: nn.Module, prefix: str, config: dict[str, Any] | None):
    if isinstance(layer, Model):
        return _model_paths(layer, prefix, config)
    if isinstance(layer, Bidirectional):
        return _layer_paths(layer.forward_layer, f"{prefix}forward_layer/", None) + _layer_paths(
            layer.backward_layer, f"{prefix}backward_layer/", None
        )
    if isinstance(layer, TimeDistributed):
        return _layer_paths(layer.layer, f"{prefix}layer/", None)
    weights = keras_weights(layer)
    if isinstance(layer, (SimpleRNN, LSTM, GRU)):  # the variables live in the layer's cell
        return [(f"{prefix}cell/vars/{i}", weight) for i, weight in enumerate(weights)]
    if isinstance(layer, MultiHeadAttention):
        counts: dict[str, int] = defaultdict(int)
        paths = []
        for weight in weights:
            sublayer = weight.name.split("/")[0]
            paths.append(
                (f"{prefix}{_ATTENTION_SUBLAYERS[sublayer]}/vars/{counts[sublayer]}", weight)
            )
            counts[sublayer] += 1
        return paths
    # Any other layer keeps its variables itself; ember-only composites (not Keras layers) list
    # theirs in keras_weights' order, which is what ember reads back.
    return [(f"{prefix}vars/{i}", weight) for i, weight in enumerate(weights)]


def keras_flatten(structure: Any) -> list[KerasTensor]:
    """The symbolic tensors in ``structure`` in Keras' (optree's) order: dict keys sorted."""
    if isinstance(structure, KerasTensor):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in keras_flatten(item)]
    if isinstance(structure, dict):
        return [t for key in sorted(structure) for t in keras_flatten(structure[key])]
    return []
