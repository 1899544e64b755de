"""Model folders: ``config.json`` (architecture as data) + ``model.safetensors`` (weights),
plus ``tokenizer.json`` when a tokenizer is attached (``model.set_tokenizer``).

Loading rebuilds the layers from their recorded constructor arguments and loads the tensors;
nothing is unpickled or executed.

Example:
    >>> import tempfile, pathlib
    >>> from ember import layers, models
    >>> model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> model.save(folder)
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors']
    >>> type(models.load_model(folder)).__name__
    'Sequential'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from ember import layers, saving
from ember.errors import SaveError
from ember.layers.base import Layer
from ember.layers.config_values import deserialize_value, serialize_value
from ember.nlp.text_inputs import TOKENIZER_FILE, load_tokenizer
from ember.version import __version__

FORMAT = "ember.sequential/1"


def sequential_config(model: nn.Module) -> dict[str, Any]:
    """The JSON-ready architecture of a :class:`~ember.Sequential` model."""
    entries = []
    for index, layer in enumerate(model.layers):
        if not isinstance(layer, Layer):
            raise SaveError(
                f"cannot save layer {index} ({type(layer).__name__}): it is a plain torch module, "
                f"whose constructor ember cannot record. Fix: use the ember layer (e.g. "
                f"layers.Activation('relu')), or save the weights alone with model.save_weights()."
            )
        name = type(layer).__name__
        config = {
            key: serialize_value(value, f"{layer.name or name}.{key}")
            for key, value in layer.get_config().items()
        }
        config["name"] = layer.name
        entries.append({"class_name": name, "config": config})
    first = model.layers[0] if len(model.layers) else None
    shape = getattr(first, "built_input_shape", None) or getattr(first, "input_shape", None)
    return {
        "format": FORMAT,
        "ember_version": __version__,
        "class_name": "Sequential",
        "name": model.name,
        "input_shape": list(shape) if shape is not None else None,
        "layers": entries,
    }


def save_model(model: nn.Module, path: str | Path) -> None:
    """Write ``model`` (a Sequential) to the folder ``path``, atomically."""
    model._ensure_built()
    saving.check_built(model, "save the model")
    config = sequential_config(model)  # raises before anything is written
    compiled = getattr(model, "_compile_config", None)
    if compiled and _is_plain(compiled):
        config["compile"] = compiled
    encoding = getattr(model, "text_encoding", None)
    if encoding is not None:
        config["text"] = {"length": encoding.length, "truncation": encoding.truncation}

    def write(folder: Path) -> None:
        saving.write_json(config, folder / saving.CONFIG_FILE)
        if encoding is not None:
            encoding.tokenizer.save(folder / TOKENIZER_FILE)
        saving.save_tensors(model.state_dict(), folder / saving.WEIGHTS_FILE, {"format": "pt"})

    saving.save_directory(path, write)


def load_model(path: str | Path, *, compile: bool = True) -> nn.Module:
    """Rebuild a model saved with ``model.save(path)``: same layers, same weights, bit for bit.

    When it was compiled with names (optimizer, loss, metrics), it is compiled again.
    """
    from ember.models.sequential import Sequential

    folder = Path(path)
    if not folder.is_dir():
        raise SaveError(
            f"no saved model at {folder}. Fix: pass the folder given to model.save(...)"
            + (
                " (a single .safetensors file holds weights only: use load_weights)"
                if folder.is_file()
                else ""
            )
        )
    config = saving.read_json(folder / saving.CONFIG_FILE)
    if config.get("format") != FORMAT:
        raise SaveError(
            f"{folder / saving.CONFIG_FILE} is not an ember model config "
            f"(format {config.get('format')!r}, expected {FORMAT!r})."
        )
    stack = []
    for entry in config["layers"]:
        cls = layers.LAYERS.get(entry["class_name"])
        kwargs = {k: deserialize_value(v) for k, v in entry["config"].items()}
        stack.append(cls(**kwargs))
    model = Sequential(stack, name=config.get("name"))
    if config.get("input_shape") is not None:
        model.build(tuple(config["input_shape"]))
    saving.load_weights(model, folder / saving.WEIGHTS_FILE)
    if config.get("text") is not None:
        model.set_tokenizer(load_tokenizer(folder / TOKENIZER_FILE), **config["text"])
    if compile and config.get("compile"):
        model.compile(**config["compile"])
    return model


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    return False
