"""Writing a model folder: ``config.json`` (architecture), ``model.safetensors`` (weights), and
``tokenizer.json`` when a tokenizer is attached (``model.set_tokenizer``), swapped in whole.

Example:
    >>> import tempfile, pathlib
    >>> from ember import layers, models
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> models.Sequential([layers.Dense(2, input_shape=(3,))]).save(folder)
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'model.safetensors']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from ember import saving
from ember.files import write_json
from ember.nlp.text_inputs import TOKENIZER_FILE


def save_model(model: nn.Module, path: str | Path) -> None:
    """Write ``model`` (a built Sequential or functional model) to the folder ``path``,
    atomically."""
    saving.check_built(model, "save the model")
    config = model.get_config()  # raises before anything is written
    compiled = getattr(model, "compile_config", None)
    if compiled and _is_plain(compiled):
        config["compile"] = compiled
    encoding = getattr(model, "text_encoding", None)
    if encoding is not None:
        config["text"] = {"length": encoding.length, "truncation": encoding.truncation}

    def write(folder: Path) -> None:
        write_json(config, folder / saving.CONFIG_FILE)
        if encoding is not None:
            encoding.tokenizer.save(folder / TOKENIZER_FILE)
        saving.save_tensors(model.state_dict(), folder / saving.WEIGHTS_FILE, {"format": "pt"})

    saving.save_directory(path, write)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    return False
