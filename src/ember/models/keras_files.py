"""Keras 3's own files: ``.keras`` model archives and ``.weights.h5`` weight files.

A ``.keras`` file is a zip archive of ``config.json`` (the model: :mod:`.keras_config`),
``metadata.json`` and ``model.weights.h5``: an HDF5 file with every weight at its Keras path, in
Keras' layout (:mod:`.keras_layout`). A ``.weights.h5`` file is that HDF5 file alone. Reading
uses ``zipfile``, ``json`` and ``h5py`` only: nothing is unpickled or executed. Weights are
checked before any is written: a missing, extra or differently shaped weight is an error naming
the layer, and the model is left as it was. Files are written whole or not at all (a temporary
file renamed into place).

Example:
    >>> import tempfile, pathlib, torch
    >>> from ember import layers, models
    >>> model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.keras"
    >>> save_keras(model, path)
    >>> again = load_keras(path)
    >>> x = torch.ones(1, 3)
    >>> torch.equal(again(x), model(x))
    True
"""

from __future__ import annotations

import datetime
import io
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from torch import nn

from ember.errors import ConfigError, SaveError, WeightsMismatchError
from ember.files import atomic_path
from ember.models.keras_compile import keras_compile_arguments, keras_compile_config
from ember.models.keras_config import model_from_keras_config
from ember.models.keras_export import keras_model_config
from ember.models.keras_layout import keras_weight_paths
from ember.models.model import Model
from ember.saving import check_built
from ember.version import __version__

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
_LISTED = 8  # problems shown in one error message


def load_keras(path: str | os.PathLike, *, compile: bool = True) -> Model:
    """The model in a Keras 3 ``.keras`` archive (Sequential or functional), with its weights.

    With ``compile=True`` the model is compiled as it was in Keras when ember has the same
    optimizer, loss and metrics (else it loads uncompiled, with a warning); the optimizer's
    state (Adam's moments, its step count) starts afresh.
    """
    path = Path(path)
    with _open_archive(path) as archive:
        names = set(archive.namelist())
        if CONFIG_FILE not in names or WEIGHTS_FILE not in names:
            npz = " (its weights are in .npz format: save with weights_format='h5')"
            raise SaveError(
                f"{path} is a zip file but not a Keras model archive: it lacks "
                f"{CONFIG_FILE if CONFIG_FILE not in names else WEIGHTS_FILE}"
                f"{npz if 'model.weights.npz' in names else ''}. Fix: pass a file written by "
                f"Keras' or ember's model.save('model.keras')."
            )
        try:
            config = json.loads(archive.read(CONFIG_FILE))
        except ValueError as error:
            raise SaveError(f"{path}: {CONFIG_FILE} is not readable JSON ({error})") from error
        weights = archive.read(WEIGHTS_FILE)
    model = model_from_keras_config(config)
    with h5py.File(io.BytesIO(weights), "r") as file:
        _read_weights(model, file, f"{path} ({WEIGHTS_FILE})", config)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        try:
            arguments = keras_compile_arguments(compile_config)
        except ConfigError as error:
            warnings.warn(
                f"{path}: the model loads uncompiled, because {error} Fix: call "
                f"model.compile(...) before fit.",
                stacklevel=2,
            )
        else:
            model.compile(**arguments)
    return model


def save_keras(model: nn.Module, path: str | os.PathLike) -> None:
    """Write a built Sequential or functional ``model`` as a Keras 3 ``.keras`` archive.

    Keras 3 loads it with ``keras.models.load_model(path)`` when every layer is a Keras layer
    (ember's own layers, such as ``TransformerEncoder``, are written under ember's name and
    load in ember only). The compile settings go along when they are names.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ConfigError(
            f"a Keras model archive's name ends in .keras, received {str(path)!r}. Fix: "
            f"save to {path.with_suffix('.keras').name!r}, or use a folder name for ember's "
            f"folder format."
        )
    check_built(model, "save the model")
    config = keras_model_config(model)  # raises before anything is written
    compiled = keras_compile_config(getattr(model, "compile_config", None))
    if compiled is not None:
        config["compile_config"] = compiled
    weights = io.BytesIO()
    with h5py.File(weights, "w") as file:
        _write_weights(model, file)
    metadata = {
        "keras_version": f"ember {__version__}",
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    if path.is_dir():
        raise SaveError(
            f"{path} is a folder (ember once saved models as folders under any name); refusing "
            f"to replace it. Fix: delete it, or save to another path."
        )
    try:
        with atomic_path(path) as temporary, zipfile.ZipFile(temporary, "w") as archive:
            archive.writestr(METADATA_FILE, json.dumps(metadata))
            archive.writestr(CONFIG_FILE, json.dumps(config))
            archive.writestr(WEIGHTS_FILE, weights.getvalue())
    except OSError as error:
        raise SaveError(f"could not write {path} ({error}); any previous file is intact") from error


def load_keras_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Load a Keras 3 ``.weights.h5`` file (``model.save_weights``) into the same architecture.

    Every weight is matched by its Keras path (layer class and number, variable index) and
    checked first; a mismatch raises :class:`~ember.errors.WeightsMismatchError` and changes
    nothing.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsMismatchError(
            f"no weights file at {path}. Fix: pass the path given to save_weights."
        )
    if not h5py.is_hdf5(path):
        raise WeightsMismatchError(
            f"{path} is not an HDF5 file, so not a Keras .weights.h5 file. Fix: pass a file "
            f"written by Keras' or ember's model.save_weights('model.weights.h5')."
        )
    check_built(model, "load_weights")
    with h5py.File(path, "r") as file:
        _read_weights(model, file, str(path), None)


def save_keras_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Write ``model``'s weights as a Keras 3 ``.weights.h5`` file (Keras' ``save_weights``)."""
    if not str(path).endswith(".weights.h5"):
        raise ConfigError(
            f"a Keras weights file's name ends in .weights.h5, received {str(path)!r}. Fix: "
            f"e.g. 'model.weights.h5' (or a .safetensors name for PyTorch's layout)."
        )
    check_built(model, "save_weights")
    keras_weight_paths(model)  # raises before anything is written
    try:
        with atomic_path(path) as temporary, h5py.File(temporary, "w") as file:
            _write_weights(model, file)
    except OSError as error:
        raise SaveError(f"could not write {path} ({error}); any previous file is intact") from error


def _open_archive(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        folder = " (a folder: ember's model folders load with load_model(folder))"
        raise SaveError(
            f"no .keras file at {path}{folder if path.is_dir() else ''}. Fix: pass the path "
            f"given to model.save(...)."
        )
    if not zipfile.is_zipfile(path):
        legacy = " (it is an HDF5 file: Keras 2's .h5 model format)" if h5py.is_hdf5(path) else ""
        raise SaveError(
            f"{path} is not a .keras archive: Keras 3 writes a zip file, and this is not "
            f"one{legacy}. Fix: load the model in Keras and save it with "
            f"model.save('model.keras')."
        )
    return zipfile.ZipFile(path)


def _write_weights(model: nn.Module, file: h5py.File) -> None:
    for path, weight in keras_weight_paths(model):
        file.create_dataset(path, data=weight.read().cpu().numpy())


def _read_weights(model: nn.Module, file: h5py.File, source: str, config: Any) -> None:
    """Check every weight the file holds for ``model``, then load them all."""
    paths = keras_weight_paths(model, config)
    stored: dict[str, Any] = {}

    def gather(name: str, item: Any) -> None:  # returning a value would stop h5py's walk
        if isinstance(item, h5py.Dataset) and name.startswith("layers/"):
            stored[name] = item

    file.visititems(gather)
    problems = []
    for path, weight in paths:
        data = stored.get(path)
        if data is None:
            problems.append(
                f"layer {weight.layer} weight {weight.name} {weight.shape} is not in the file "
                f"(at {path})"
            )
        elif tuple(data.shape) != weight.shape:
            problems.append(
                f"layer {weight.layer} weight {weight.name} has shape {weight.shape} in Keras' "
                f"layout, the file holds shape {tuple(data.shape)}"
            )
    expected = {path for path, _ in paths}
    extra = [path for path in stored if path not in expected]
    if extra:
        problems.append(f"the file holds weights the model lacks: {', '.join(extra[:_LISTED])}")
    if problems:
        more = f" (and {len(problems) - _LISTED} more)" if len(problems) > _LISTED else ""
        raise WeightsMismatchError(
            f"the weights in {source} do not fit model {getattr(model, 'name', '')!r}: "
            + "; ".join(problems[:_LISTED])
            + f"{more}. Fix: build the same architecture that saved the file (the same layers, "
            f"sizes and order)."
        )
    with torch.no_grad():
        for path, weight in paths:
            weight.write(torch.from_numpy(np.asarray(stored[path])))


Model.keras_files.update(
    save=save_keras, save_weights=save_keras_weights, load_weights=load_keras_weights
)
