"""The layer registry each layer fills where it is defined, config values, and import direction."""

import ast
import inspect
import pathlib

import pytest
import torch

from ember import layers
from ember.errors import SaveError, UnknownNameError
from ember.layers import initializers, regularizers
from ember.layers.base import Layer
from ember.layers.config_values import deserialize_value, serialize_value
from ember.layers.registry import LAYERS

PUBLIC_LAYERS = {
    name: value
    for name, value in vars(layers).items()
    if name in layers.__all__ and inspect.isclass(value) and issubclass(value, Layer)
}
KERAS_ALIASES = {
    "MaxPool1D": "MaxPooling1D",
    "MaxPool2D": "MaxPooling2D",
    "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D",
    "AvgPool2D": "AveragePooling2D",
    "AvgPool3D": "AveragePooling3D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
}


def test_every_public_layer_is_registered_under_its_public_name():
    assert layers.LAYERS is LAYERS
    expected = {name for name, cls in PUBLIC_LAYERS.items() if cls is not Layer}
    for name in expected:
        assert layers.get(name) is PUBLIC_LAYERS[name]
    # Nothing more from ember.layers (no private base such as _Pooling), nothing less.
    registered = {name for name, cls in LAYERS.items() if cls.__module__.startswith("ember.layers")}
    assert registered == expected


@pytest.mark.parametrize("alias, name", sorted(KERAS_ALIASES.items()))
def test_keras_short_aliases_are_the_long_named_classes(alias, name):
    assert getattr(layers, alias) is getattr(layers, name)
    assert layers.get(alias) is getattr(layers, name)
    assert layers.get(alias.lower()) is getattr(layers, name)  # case and "_" ignored


def test_unknown_layer_name_lists_close_matches():
    with pytest.raises(UnknownNameError, match="Did you mean 'MaxPool2D'"):
        layers.get("MaxPol2D")


def test_config_values_round_trip_initializer_and_regularizer_objects():
    values = [initializers.RandomNormal(stddev=0.2), regularizers.L1L2(0.1, 0.2), 3, "relu", None]
    written = serialize_value(values, "layer.argument")
    assert written[0] == {
        "module": "initializers",
        "class_name": "RandomNormal",
        "config": {"mean": 0.0, "stddev": 0.2, "seed": None},
    }
    assert written[2:] == [3, "relu", None]
    rebuilt = deserialize_value(written)
    assert [type(v) for v in rebuilt[:2]] == [initializers.RandomNormal, regularizers.L1L2]
    assert rebuilt[1].get_config() == {"l1": 0.1, "l2": 0.2}


def test_config_values_refuse_an_object_they_cannot_write():
    with pytest.raises(SaveError, match=r"cannot save dense.activation=.*Fix: pass it by name"):
        serialize_value(torch.nn.ReLU(), "dense.activation")


# ember.layers sits near the bottom of the package: it may import only these ember modules.
ALLOWED = (
    "ember.layers",
    "ember.registry",
    "ember.errors",
    "ember.checks",
    "ember.activations",
    "ember.data",  # the preprocessing layers reuse its batch augmentations
)


def _ember_imports(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(module, line, at module level) for every import of an ember module in ``tree``."""
    found = []
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ember"):
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names if alias.name.startswith("ember")]
        else:
            continue
        found += [(module, node.lineno, id(node) in top_level) for module in modules]
    return found


def test_layers_import_only_the_base_modules_and_only_at_module_level():
    folder = pathlib.Path(layers.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for module, line, top_level in _ember_imports(ast.parse(path.read_text())):
            where = f"{path.name}:{line} imports {module}"
            assert top_level, f"{where} inside a function or class"
            assert module.startswith(ALLOWED), f"{where}, outside {ALLOWED}"
