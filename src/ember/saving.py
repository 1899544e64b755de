"""Saving and loading tensors without pickle: safetensors files, written atomically.

Weights of any module, strictly checked on load (names and shapes, listed when they differ), and
model folders swapped into place whole (:func:`save_directory`). File writes go through
:func:`ember.files.atomic_path`.

Example:
    >>> import torch, tempfile, pathlib
    >>> from ember.saving import save_weights, load_weights
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.safetensors"
    >>> save_weights(torch.nn.Linear(3, 2), path)
    >>> load_weights(torch.nn.Linear(3, 2), path)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ember.errors import SaveError, WeightsMismatchError
from ember.files import atomic_path

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata=None) -> None:
    """Write ``tensors`` as a safetensors file, atomically."""
    # safetensors refuses views and tensors sharing memory (tied weights): store plain copies.
    plain = {
        name: t.detach().to("cpu").clone(memory_format=torch.contiguous_format)
        for name, t in tensors.items()
    }
    try:
        with atomic_path(path) as tmp:
            save_file(plain, str(tmp), metadata=metadata)
    except OSError as error:
        raise SaveError(f"could not write {path} ({error}); any previous file is intact") from error


def save_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Save ``module.state_dict()`` (parameters and buffers) to a safetensors file, atomically.

    Example:
        >>> import torch, tempfile, pathlib
        >>> save_weights(torch.nn.Linear(3, 2), pathlib.Path(tempfile.mkdtemp()) / "w.safetensors")
    """
    check_built(module, "save_weights")
    save_tensors(module.state_dict(), path, metadata={"format": "pt"})


def read_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a safetensors file (never unpickles); clear errors for missing or corrupt files."""
    path = Path(path)
    if not path.is_file():
        raise WeightsMismatchError(
            f"no weights file at {path}. Fix: pass the path given to save_weights/model.save."
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise WeightsMismatchError(
            f"{path} is not a readable safetensors file ({error}). Fix: save it again with "
            f"save_weights (ember never loads pickled checkpoints)."
        ) from error


def load_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load weights saved by :func:`save_weights` into ``module``, strictly.

    Names and shapes are compared first; any missing, unexpected or differently shaped tensor
    raises :class:`~ember.errors.WeightsMismatchError` listing them, and ``module`` is untouched.
    """
    check_built(module, "load_weights")
    stored = read_tensors(path)
    check_compatible(module.state_dict(), stored, path)
    module.load_state_dict(stored)


def check_compatible(
    expected: dict[str, torch.Tensor], stored: dict[str, torch.Tensor], path: Any
) -> None:
    """Raise :class:`WeightsMismatchError` unless ``stored`` has exactly ``expected``'s shapes."""
    missing = [k for k in expected if k not in stored]
    unexpected = [k for k in stored if k not in expected]
    shapes = [
        f"{k}: model {tuple(expected[k].shape)} vs file {tuple(stored[k].shape)}"
        for k in expected
        if k in stored and expected[k].shape != stored[k].shape
    ]
    if not (missing or unexpected or shapes):
        return
    lines = [f"the weights in {path} do not fit this model:"]
    if missing:
        lines.append(f"  missing from the file: {_listing(missing)}")
    if unexpected:
        lines.append(f"  not in the model: {_listing(unexpected)}")
    if shapes:
        lines.append(f"  different shapes: {_listing(shapes)}")
    lines.append("Fix: build the same architecture that saved the file (same layers and sizes).")
    raise WeightsMismatchError("\n".join(lines))


def check_built(module: nn.Module, action: str) -> None:
    """Raise if ``module`` still has lazy (uninitialised) parameters."""
    lazy = [
        name
        for name, p in module.named_parameters()
        if isinstance(p, nn.parameter.UninitializedParameter)
    ]
    unbuilt = [name for name, m in module.named_modules() if getattr(m, "built", True) is False]
    if lazy or unbuilt:
        raise SaveError(
            f"cannot {action}: the model is not built yet (layers {_listing(unbuilt or lazy)} have "
            f"no weights until they see an input). Fix: give the first layer input_shape=..., or "
            f"call the model on a batch (or fit it) first."
        )


def save_directory(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Write a model folder atomically: fill a temporary folder, then swap it into place.

    An existing folder is replaced only if it is an ember model folder (holds ``config.json``);
    anything else at ``path`` is an error, raised before writing.
    """
    path = Path(path)
    if path.exists() and not (path.is_dir() and (path / CONFIG_FILE).is_file()):
        raise SaveError(
            f"{path} exists and is not an ember model folder; refusing to overwrite it. "
            f"Fix: choose another path or delete it."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as error:
        raise SaveError(f"cannot write into {path.parent} ({error})") from error
    try:
        write(staging)
        if path.exists():
            # Move the old folder aside first: if the process dies in between, it survives.
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, path)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise SaveError(f"could not save to {path} ({error}); nothing was overwritten") from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _listing(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" ... ({len(names)} in all)" if len(names) > limit else "")
