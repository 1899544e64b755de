"""Checkpoints a run resumes from exactly: weights plus every piece of training state.

A run's ``checkpoints/`` folder::

    epoch-0003/model.safetensors    the module's state_dict (weights and buffers)
    epoch-0003/state.safetensors    the tensors of the training state (optimizer moments, RNG states)
    epoch-0003/state.json           the rest of it (epoch, step, learning rates, scheduler counters)
    last -> epoch-0003               symbolic links, swapped atomically
    best -> epoch-0002

A checkpoint folder is written under a temporary name, flushed to disk and renamed; then ``last``
is re-pointed by creating a new link and renaming it over the old one (``rename`` is atomic on
POSIX). A process killed at any moment therefore leaves ``last`` pointing at a complete checkpoint,
and a full disk leaves the previous one untouched.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ember.errors import CheckpointError

CHECKPOINTS = "checkpoints"
MODEL_FILE = "model.safetensors"
STATE_TENSORS = "state.safetensors"
STATE_JSON = "state.json"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the module's ``state_dict`` and the training ``state`` it was saved with."""

    path: Path
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]

    @property
    def epoch(self) -> int:
        """How many epochs were complete when it was written."""
        return int(self.state["epoch"])


def save_checkpoint(
    run_dir: Path,
    epoch: int,
    weights: dict[str, torch.Tensor],
    state: dict[str, Any],
    *,
    best: bool,
) -> Path:
    """Write checkpoint ``epoch`` and point ``last`` (and ``best`` if ``best``) at it, atomically.

    Example:
        >>> import tempfile, pathlib, torch
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> _ = save_checkpoint(run, 1, {"w": torch.ones(2)}, {"epoch": 1}, best=True)
        >>> load_checkpoint(run).epoch, sorted(p.name for p in (run / "checkpoints").iterdir())
        (1, ['best', 'epoch-0001', 'last'])
    """
    folder = Path(run_dir) / CHECKPOINTS
    name = f"epoch-{epoch:04d}"
    target = folder / name
    staging = folder / f".{name}.tmp"
    tensors, skeleton = encode_state(state)  # a value it cannot store fails here, not as I/O
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)  # a leftover from a killed write
        staging.mkdir()
        save_file(_contiguous(weights), staging / MODEL_FILE)
        save_file(tensors, staging / STATE_TENSORS)
        (staging / STATE_JSON).write_text(json.dumps(skeleton))
        for file in staging.iterdir():
            _fsync(file)
        if target.exists():  # written by a run that was killed before re-pointing `last`
            shutil.rmtree(target)
        os.replace(staging, target)
        _fsync(folder)
        _point(folder, "last", name)
        if best:
            _point(folder, "best", name)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        previous = _linked(folder, "last")
        kept = f"the previous checkpoint ({previous}) is intact" if previous else "no checkpoint"
        problem = "the disk is full" if error.errno == errno.ENOSPC else f"writing failed ({error})"
        raise CheckpointError(
            f"could not write the checkpoint for epoch {epoch} into {folder}: {problem}; {kept}. "
            f"Fix: free some space (or fix the folder's permissions), then continue with "
            f"`ember resume {run_dir}`."
        ) from error
    _prune(folder)
    return target


def load_checkpoint(run_dir: Path, which: str = "last") -> Checkpoint | None:
    """Load checkpoint ``which`` (``"last"`` or ``"best"``); None if the run has none yet."""
    link = Path(run_dir) / CHECKPOINTS / which
    if not link.exists():
        return None
    try:
        weights = load_file(link / MODEL_FILE)
        tensors = load_file(link / STATE_TENSORS)
        skeleton = json.loads((link / STATE_JSON).read_text())
    except (OSError, ValueError, SafetensorError) as error:
        raise CheckpointError(
            f"the checkpoint {link} ({os.path.realpath(link)}) cannot be read ({error}). Fix: "
            f"restore it from a backup, or start the run again with `ember train`."
        ) from error
    return Checkpoint(link, weights, decode_state(skeleton, tensors))


def encode_state(state: Any) -> tuple[dict[str, torch.Tensor], Any]:
    """Split nested training state into safetensors tensors and a JSON skeleton referring to them.

    Dicts with non-string keys (optimizer states are keyed by parameter index), tuples and
    tensors are tagged so that :func:`decode_state` rebuilds exactly the same objects.

    Example:
        >>> tensors, skeleton = encode_state({"step": 3, "betas": (0.9, 0.999), 0: torch.ones(1)})
        >>> decode_state(skeleton, tensors)
        {'step': 3, 'betas': (0.9, 0.999), 0: tensor([1.])}
    """
    tensors: dict[str, torch.Tensor] = {}

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            tensors[path] = value.detach().cpu().clone().contiguous()
            return {"__tensor__": path}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: encode(v, f"{path}.{k}") for k, v in value.items()}}
            return {"__items__": [[k, encode(v, f"{path}.{k}")] for k, v in value.items()]}
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [encode(v, f"{path}.{i}") for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise CheckpointError(
            f"cannot store {type(value).__name__} at {path or 'the top'} of the training state "
            f"in a checkpoint (only tensors, numbers, strings, lists, tuples and dicts)."
        )

    return tensors, encode(state, "")


def decode_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(skeleton, list):
        return [decode_state(v, tensors) for v in skeleton]
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            return tensors[skeleton["__tensor__"]]
        if "__tuple__" in skeleton:
            return tuple(decode_state(v, tensors) for v in skeleton["__tuple__"])
        if "__items__" in skeleton:
            return {k: decode_state(v, tensors) for k, v in skeleton["__items__"]}
        return {k: decode_state(v, tensors) for k, v in skeleton["__dict__"].items()}
    return skeleton


def _contiguous(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses shared or strided storage (tied weights, channels-last kernels)
    return {k: v.detach().cpu().clone().contiguous() for k, v in weights.items()}


def _point(folder: Path, link: str, name: str) -> None:
    tmp = folder / f".{link}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(name, tmp)
    os.replace(tmp, folder / link)
    _fsync(folder)


def _linked(folder: Path, link: str) -> str | None:
    path = folder / link
    return os.readlink(path) if path.is_symlink() else None


def _prune(folder: Path) -> None:
    """Remove checkpoint folders neither link points to (best effort: never fails a run)."""
    keep = {_linked(folder, "last"), _linked(folder, "best")}
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink() and entry.name not in keep:
            if entry.name.startswith("epoch-"):
                shutil.rmtree(entry, ignore_errors=True)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
