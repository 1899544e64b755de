"""A layer's constructor arguments as JSON and back: names and numbers as they are, initializer and
regularizer objects as ``{"module", "class_name", "config"}``.

Model saving (``ember.models.serialization``) writes every layer's config through :func:`serialize_value`;
loading, and ``Bidirectional`` rebuilding its wrapped layers, read them back with
:func:`deserialize_value`.

Example:
    >>> from ember.layers import regularizers
    >>> value = serialize_value(regularizers.L2(0.5), "dense.kernel_regularizer")
    >>> value
    {'module': 'regularizers', 'class_name': 'L2', 'config': {'l2': 0.5}}
    >>> deserialize_value(value)
    L2(l2=0.5)
"""

from __future__ import annotations

import inspect
from typing import Any

from ember import activations
from ember.errors import SaveError
from ember.layers import constraints, initializers, regularizers

# Modules whose objects may appear in a layer's config, rebuilt through their get().
_OBJECT_MODULES = {
    "initializers": initializers,
    "regularizers": regularizers,
    "constraints": constraints,
}


def serialize_value(value: Any, where: str) -> Any:
    """JSON-ready form of one constructor argument; raises :class:`SaveError` if impossible."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [serialize_value(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): serialize_value(v, where) for k, v in value.items()}
    for kind, module in _OBJECT_MODULES.items():
        if type(value).__module__ == module.__name__ and hasattr(value, "get_config"):
            return {
                "module": kind,
                "class_name": type(value).__name__,
                "config": value.get_config(),
            }
    if where.endswith("activation") and activations.name_of(value) is not None:
        return activations.name_of(value)  # activations.relu saves as "relu", as in Keras
    if inspect.isfunction(value) or inspect.isbuiltin(value) or inspect.ismethod(value):
        raise SaveError(
            f"cannot save {where}={value!r}: a Python function cannot be written to "
            f"config.json (ember never pickles code). Fix: save the weights alone with "
            f"model.save_weights(path) and rebuild the model in code, or replace the function "
            f"by a layer (a registered Layer subclass)."
        )
    raise SaveError(
        f"cannot save {where}={value!r}: only names, numbers and ember initializer/regularizer "
        f"objects can be written to config.json. Fix: pass it by name (e.g. activation='relu'), "
        f"or save the weights alone with model.save_weights(path)."
    )


def deserialize_value(value: Any) -> Any:
    """Inverse of :func:`serialize_value`."""
    if isinstance(value, dict) and value.get("module") in _OBJECT_MODULES:
        module = _OBJECT_MODULES[value["module"]]
        return module.get({"class_name": value["class_name"], "config": value["config"]})
    if isinstance(value, list):
        return [deserialize_value(v) for v in value]
    return value
