"""Reading a model folder written by ``model.save``: the same layers, the same weights, bit for bit.

Example:
    >>> import tempfile, pathlib
    >>> from ember import layers, models
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> models.Sequential([layers.Dense(2, input_shape=(3,))]).save(folder)
    >>> type(load_model(folder)).__name__
    'Sequential'
"""

from __future__ import annotations

from pathlib import Path

from ember import saving
from ember.errors import SaveError
from ember.files import read_json
from ember.models.functional_graph import FORMAT as GRAPH_FORMAT
from ember.models.functional_graph import graph_from_config
from ember.models.keras_files import load_keras
from ember.models.model import Model
from ember.models.sequential import Sequential
from ember.models.serialization import FORMAT, layers_from_config
from ember.nlp.text_inputs import TOKENIZER_FILE, load_tokenizer


def load_model(path: str | Path, *, compile: bool = True) -> Model:
    """Rebuild a model saved with ``model.save(path)``: a folder, or a Keras ``.keras`` archive
    (Keras 3's or ember's); compile it again when it was compiled with names (optimizer, loss,
    metrics)."""
    folder = Path(path)
    if folder.suffix == ".keras" and not folder.is_dir():  # (older ember wrote such folders)
        return load_keras(folder, compile=compile)
    if not folder.is_dir():
        raise SaveError(
            f"no saved model at {folder}. Fix: pass the folder given to model.save(...)"
            + (
                " (a single .safetensors file holds weights only: use load_weights)"
                if folder.is_file()
                else ""
            )
        )
    config = read_json(folder / saving.CONFIG_FILE)
    if config.get("format") == GRAPH_FORMAT:
        model = graph_from_config(config)
    elif config.get("format") == FORMAT:
        model = Sequential(layers_from_config(config), name=config.get("name"))
        if config.get("input_shape") is not None:
            model.build(tuple(config["input_shape"]))
    else:
        raise SaveError(
            f"{folder / saving.CONFIG_FILE} is not an ember model config "
            f"(format {config.get('format')!r}, expected {FORMAT!r} or {GRAPH_FORMAT!r})."
        )
    saving.load_weights(model, folder / saving.WEIGHTS_FILE)
    if config.get("text") is not None:
        model.set_tokenizer(load_tokenizer(folder / TOKENIZER_FILE), **config["text"])
    if compile and config.get("compile"):
        model.compile(**config["compile"])
    return model
