"""Keras 3 model configs (a ``.keras`` archive's ``config.json``) as ember models.

:func:`model_from_keras_config` reads what Keras' ``serialize_keras_object(model)`` writes: a
``Sequential`` (its layers, an ``InputLayer`` first) or a ``Functional`` model (each layer with
the calls made on it, ``inbound_nodes``, whose tensors name the layer, call and output they come
from: ``keras_history``). Each layer becomes the ember layer of the same class, built from the
same constructor arguments; Keras-only arguments that change nothing here (initializers of
weights that are loaded anyway, seeds, speed switches, the default of a feature ember lacks) are
dropped, any other is an error naming it. Nothing in the config is executed: a ``Lambda`` layer
is refused. :mod:`.keras_export` writes the same form.

Example:
    >>> config = {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
    ...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "dtype": "float32"}},
    ...     {"module": "keras.layers", "class_name": "Dense", "config": {
    ...         "name": "dense", "units": 2, "activation": "relu", "dtype": {
    ...             "module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
    ...         "kernel_initializer": {"module": "keras.initializers",
    ...             "class_name": "GlorotUniform", "config": {"seed": None}}}}]}}
    >>> model = model_from_keras_config(config)
    >>> type(model).__name__, model.layers[0].weight.shape
    ('Sequential', torch.Size([2, 3]))
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ember.errors import ConfigError
from ember.layers import constraints, initializers, regularizers
from ember.layers.registry import LAYERS
from ember.layers.symbolic import Input
from ember.models.keras_layout import is_functional, keras_flatten
from ember.models.model import Model
from ember.models.sequential import Sequential

# Keras computes in float32 under these policies (mixed precision keeps float32 weights).
_FLOAT32_POLICIES = {None, "float32", "mixed_float16", "mixed_bfloat16"}
# Keras-only arguments that change nothing for a loaded model: how fresh weights are drawn
# (also every ``*_initializer``), and switches of speed or of devices.
_INERT = {
    "seed",
    "unit_forget_bias",
    "unroll",
    "use_cudnn",
    "flash_attention",
    "synchronized",
    "renorm_momentum",
    "renorm_clipping",
    "lora_alpha",
    "autocast",
}
# Keras-only arguments at the value that means what ember's layer does.
_NEUTRAL = {
    "data_format": "channels_last",
    "renorm": False,
    "use_gate": False,
    "reset_after": True,
    "sparse": False,
    "ragged": False,
    "optional": False,
    "attention_axes": [1],
    "rms_scaling": False,
}
# The families of objects a layer config may hold: (Keras' module suffix, ember's module,
# its registry, its base class).
OBJECT_FAMILIES = (
    ("initializers", initializers, initializers.INITIALIZERS, initializers.Initializer),
    ("regularizers", regularizers, regularizers.REGULARIZERS, regularizers.Regularizer),
    ("constraints", constraints, constraints.CONSTRAINTS, constraints.Constraint),
)
_DEFAULT = object()  # a value left to ember's default


def model_from_keras_config(config: dict[str, Any]) -> Model:
    """The ember model a Keras 3 model config describes, built, with fresh weights."""
    kind = config.get("class_name")
    if kind == "Sequential":
        return _sequential(config)
    if kind in ("Functional", "Model") and "layers" in config.get("config", {}):
        return _functional(config)
    raise ConfigError(
        f"the Keras model is a {kind!r}; ember reads Sequential and functional models. "
        f"Fix: rebuild the model in ember and move the weights with "
        f"model.set_weights(keras_model.get_weights())."
    )


def _sequential(entry: dict[str, Any]) -> Sequential:
    config = entry["config"]
    shape = config.get("build_input_shape") or (entry.get("build_config") or {}).get("input_shape")
    stack = []
    for layer_entry in config["layers"]:
        if layer_entry["class_name"] == "InputLayer":
            shape = layer_entry["config"]["batch_shape"]
        else:
            stack.append(_layer(layer_entry))
    model = Sequential(stack, name=config.get("name"))
    if shape:
        model.build(tuple(shape))
    _apply_trainable(model, config)
    return model


def _functional(entry: dict[str, Any]) -> Model:
    config = entry["config"]
    layers: dict[str, nn.Module] = {}
    calls: dict[str, list[Any]] = {}  # layer name -> each call's outputs, as Keras numbers them
    pending: list[tuple[str, list[Any]]] = []
    for layer_entry in config["layers"]:
        name = layer_entry.get("name") or layer_entry["config"]["name"]
        if layer_entry["class_name"] == "InputLayer":
            spec = layer_entry["config"]
            tensor = Input(batch_shape=spec["batch_shape"], dtype=spec.get("dtype"), name=name)
            calls[name] = [[tensor]]
            continue
        layers[name] = _layer(layer_entry)
        calls[name] = []
        pending.append((name, list(layer_entry.get("inbound_nodes", []))))
    while pending:  # a shared layer's later calls may wait for layers listed after it
        progressed = False
        for name, nodes in pending:
            while nodes and _ready(nodes[0], calls):
                node = nodes.pop(0)
                args = _tensors(node.get("args", []), calls, name)
                kwargs = _tensors(node.get("kwargs", {}), calls, name)
                kwargs = {key: value for key, value in kwargs.items() if value is not None}
                calls[name].append(keras_flatten(layers[name](*args, **kwargs)))
                progressed = True
        waiting = [(name, nodes) for name, nodes in pending if nodes]
        if waiting and not progressed:
            raise ConfigError(
                f"the Keras model's graph cannot be drawn: the calls of layers "
                f"{[name for name, _ in waiting]} need tensors no layer makes. Fix: save the "
                f"model again from Keras."
            )
        pending = waiting
    # The model's inputs and outputs count a functional layer's calls from 1 (Keras' get_config
    # numbers its own graph 0 there, but not in the calls' arguments).
    shift = {name: int(is_functional(layer)) for name, layer in layers.items()}
    inputs = _endpoints(config["input_layers"], calls, shift)
    outputs = _endpoints(config["output_layers"], calls, shift)
    model = Model(inputs, outputs, name=config.get("name"))
    _apply_trainable(model, config)
    return model


def _layer(entry: dict[str, Any]) -> nn.Module:
    kind, config = entry["class_name"], entry.get("config") or {}
    if kind in ("Sequential", "Functional"):
        return model_from_keras_config(entry)
    name = entry.get("name") or config.get("name") or kind
    if kind == "Lambda":
        raise ConfigError(
            f"the Keras model has a Lambda layer ({name!r}): its function is Python code "
            f"({'compiled bytecode' if '__lambda__' in str(config) else 'named by module'}), "
            f"which ember never runs from a file. Fix: rebuild the model in ember (with "
            f"layers.Lambda(your_function)) and move the weights with "
            f"model.set_weights(keras_model.get_weights())."
        )
    module = entry.get("module") or ""
    if kind not in LAYERS or not module.startswith(("keras", "ember")):
        raise ConfigError(
            f"the Keras model has layer {name!r} of class {kind} (module {module or '?'}), and "
            f"ember has no {kind} layer. Fix: replace it in Keras by layers ember has (see "
            f"ember.layers), or rebuild that part in ember."
        )
    layer = LAYERS.get(kind)(**_arguments(kind, config, name))
    _apply_trainable(layer, config)
    return layer


def _arguments(kind: str, config: dict[str, Any], name: str) -> dict[str, Any]:
    """ember's constructor arguments for a Keras layer config (see the module docstring)."""
    parameters = inspect.signature(LAYERS.get(kind)).parameters
    arguments = {}
    for key, value in config.items():
        if key == "dtype":
            policy = value.get("config", {}).get("name") if isinstance(value, dict) else value
            if policy not in _FLOAT32_POLICIES:
                raise ConfigError(
                    f"layer {name!r} of the Keras model computes in {policy}; ember's layers "
                    f"compute in float32. Fix: save it from Keras with dtype='float32' (choose "
                    f"the precision in ember's compile(precision=...))."
                )
        elif key in parameters:
            converted = _value(value, f"{name}.{key}")
            if converted is not _DEFAULT:
                arguments[key] = converted
        elif not (
            key == "trainable"
            or value is None
            or key in _INERT
            or key.endswith("_initializer")
            or _NEUTRAL.get(key, _DEFAULT) == value
        ):
            raise ConfigError(
                f"layer {name!r} of the Keras model sets {key}={value!r}, and ember's {kind} "
                f"has no {key} argument. Fix: build that layer in Keras without {key} (its "
                f"default), or rebuild it in ember."
            )
    return arguments


def _value(value: Any, where: str) -> Any:
    """An argument's value in ember's terms: Keras' serialized objects become ember's."""
    if isinstance(value, list):
        return [_value(item, where) for item in value]
    if not (isinstance(value, dict) and "class_name" in value and "config" in value):
        return {k: _value(v, where) for k, v in value.items()} if isinstance(value, dict) else value
    kind, module = value["class_name"], value.get("module") or ""
    for family, _, registry, _ in OBJECT_FAMILIES:
        if module.endswith(family):
            return _ember_object(family, registry, kind, value["config"] or {}, where)
    if module.startswith(("keras", "ember")) and kind in LAYERS:  # a wrapped layer
        return {"class_name": kind, "config": _arguments(kind, value["config"], where)}
    raise ConfigError(
        f"{where} holds a Keras {kind} object (module {module or '?'}), which ember cannot "
        f"rebuild. Fix: use a built-in name or object there in Keras, or rebuild the layer in "
        f"ember."
    )


def _ember_object(family: str, registry: Any, kind: str, config: dict, where: str) -> Any:
    factory = registry.get(kind) if kind in registry else None
    parameters = inspect.signature(factory).parameters if factory is not None else {}
    unknown = [key for key, value in config.items() if key not in parameters and value is not None]
    if factory is None or unknown:
        if family == "initializers":  # it only draws fresh weights: the file's replace them
            return _DEFAULT
        raise ConfigError(
            f"{where} is Keras' {kind}({config}), which ember's {family} do not offer"
            f"{f' (ember has no {unknown} argument)' if factory is not None else ''}. Fix: use "
            f"one of ember.layers.{family}.names() in Keras, or rebuild the layer in ember."
        )
    return factory(**{key: value for key, value in config.items() if key in parameters})


def _apply_trainable(module: nn.Module, config: dict[str, Any]) -> None:
    if config.get("trainable") is False:
        module.trainable = False


def _ready(node: Any, calls: dict[str, list[Any]]) -> bool:
    if isinstance(node, list):  # Keras 2's [[name, node, tensor, kwargs], ...]
        raise ConfigError(
            "the model config uses Keras 2's node format. Fix: load the model in Keras 3 and "
            "save it again with model.save('model.keras')."
        )
    return all(_made(history, calls) for history in _histories(node))


def _made(history: list[Any], calls: dict[str, list[Any]]) -> bool:
    name, call, _ = history
    return name in calls and call < len(calls[name])


def _histories(value: Any) -> list[list[Any]]:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"]]
        return [h for item in value.values() for h in _histories(item)]
    if isinstance(value, list):
        return [h for item in value for h in _histories(item)]
    return []


def _tensors(value: Any, calls: dict[str, list[Any]], where: str) -> Any:
    """A call's arguments with Keras' tensor records replaced by ember's symbolic tensors."""
    if isinstance(value, list):
        return [_tensors(item, calls, where) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("class_name")
    if kind == "__keras_tensor__":
        name, call, index = value["config"]["keras_history"]
        return calls[name][call][index]
    if isinstance(kind, str) and kind.startswith("__"):
        raise ConfigError(
            f"layer {where!r} is called with a Keras {kind} object, which ember does not read. "
            f"Fix: pass tensors (or plain numbers) to the layer in Keras."
        )
    return {key: _tensors(item, calls, where) for key, item in value.items()}


def _endpoints(value: Any, calls: dict[str, list[Any]], shift: dict[str, int]) -> Any:
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        name, call, index = value
        return calls[name][call - shift.get(name, 0)][index]
    if isinstance(value, dict):
        return {key: _endpoints(item, calls, shift) for key, item in value.items()}
    return [_endpoints(item, calls, shift) for item in value]
