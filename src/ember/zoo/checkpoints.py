"""Pretrained weights for the zoo's image models: read a file, load it strictly.

A weights file is a ``.safetensors`` file or a PyTorch state dict (``.pt``/``.pth``/``.bin``,
read with ``torch.load(weights_only=True)``: never an arbitrary pickle). :func:`load_pretrained`
checks every key and shape before copying anything (:func:`ember.saving.check_compatible`), with
two deliberate exceptions that fine-tuning needs: the classifier (the last ``nn.Linear``) may
have another number of classes than the file's, and the first convolution another number of
input channels. :func:`torchvision_weights_file` says where torchvision caches a family's
standard weights; ember never downloads them.

Example:
    >>> import tempfile, pathlib
    >>> from torch import nn
    >>> source = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4, 1000))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.pt"
    >>> torch.save(source.state_dict(), path)
    >>> target = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4, 10))
    >>> _ = load_pretrained(target, path)  # grey input, 10 classes: a new head
    >>> torch.equal(target[0].weight, source[0].weight.sum(1, keepdim=True))
    True
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from ember.errors import ConfigError, WeightsMismatchError
from ember.saving import check_compatible, read_tensors
from ember.vision_imports import import_torchvision
from ember.zoo.input_adapters import adapt_input_channels
from ember.zoo.pretrained import PretrainedNotFoundError

SAFETENSORS_SUFFIXES = (".safetensors",)
STATE_DICT_SUFFIXES = (".pt", ".pth", ".bin")
# BatchNorm's step counter: checkpoints saved before PyTorch 0.4.1 (some of torchvision's among
# them) lack it. It only matters for momentum=None, so a missing one keeps the model's value.
_OPTIONAL_SUFFIX = ".num_batches_tracked"


def check_weights_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it is a weights file ember reads, else a clear error.

    Example:
        >>> check_weights_file("/no/such/weights.pt")
        Traceback (most recent call last):
        ...
        ember.zoo.pretrained.PretrainedNotFoundError: no weights file at /no/such/weights.pt ...
    """
    path = Path(path)
    if not path.is_file():
        folder = path.parent if path.parent.is_dir() else "(that folder does not exist either)"
        raise PretrainedNotFoundError(
            f"no weights file at {path} (ember looked in {folder}). Fix: pass the path of a "
            f".safetensors or .pt/.pth/.bin state-dict file."
        )
    if path.suffix.lower() not in SAFETENSORS_SUFFIXES + STATE_DICT_SUFFIXES:
        raise ConfigError(
            f"expected a weights file ending in .safetensors, .pt, .pth or .bin, received {path}. "
            f"Fix: rename it if it is one of these formats."
        )
    return path


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a weights file (:func:`check_weights_file`), on the CPU, by name.

    Example:
        >>> from ember.saving import save_tensors
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.safetensors"
        >>> save_tensors({"bias": torch.zeros(2)}, path)
        >>> read_state_dict(path)
        {'bias': tensor([0., 0.])}
    """
    path = check_weights_file(path)
    if path.suffix.lower() in SAFETENSORS_SUFFIXES:
        return read_tensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as error:
        raise WeightsMismatchError(
            f"{path} is not a readable state dict ({str(error).splitlines()[0]}). Fix: save "
            f"model.state_dict() with torch.save (ember never unpickles whole models)."
        ) from error
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise WeightsMismatchError(
            f"{path} holds a {type(state).__name__}, expected a state dict (names -> tensors). "
            f"Fix: save model.state_dict(); from a training checkpoint take its state dict, "
            f"e.g. torch.save(checkpoint['state_dict'], path)."
        )
    return dict(state)


def torchvision_weights_file(builder: str) -> tuple[Path, str]:
    """Where torchvision caches the default weights of ``builder`` (e.g. ``"resnet18"``), and
    the URL it downloads them from: ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``.

    Example:
        >>> path, url = torchvision_weights_file("resnet18")
        >>> path.name, url
        ('resnet18-f37072fd.pth', 'https://download.pytorch.org/models/resnet18-f37072fd.pth')
    """
    weights = import_torchvision().models.get_model_weights(builder).DEFAULT
    return Path(torch.hub.get_dir()) / "checkpoints" / weights.url.rsplit("/", 1)[-1], weights.url


def classifier(model: nn.Module) -> tuple[str, nn.Linear]:
    """The classifier of ``model``, taken to be its last ``nn.Linear``, and its dotted name.

    Example:
        >>> classifier(nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)))[0]
        '2'
    """
    found = _named(model, nn.Linear)
    if not found:
        raise ConfigError(
            f"{type(model).__name__} has no nn.Linear classifier inside it, so its number of "
            f"classes cannot be changed. Fix: build it with the number of classes you need."
        )
    return found[-1]


def replace_classifier(model: nn.Module, num_classes: int) -> nn.Module:
    """Give ``model`` a new, randomly initialised classifier with ``num_classes`` outputs.

    Example:
        >>> net = replace_classifier(nn.Sequential(nn.Linear(8, 1000)), 10)
        >>> net[0]
        Linear(in_features=8, out_features=10, bias=True)
    """
    name, old = classifier(model)
    if old.out_features == num_classes:
        return model
    new = nn.Linear(
        old.in_features,
        num_classes,
        bias=old.bias is not None,
        device=old.weight.device,
        dtype=old.weight.dtype,
    )
    parent, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(parent), attribute, new)
    return model


def load_pretrained(
    model: nn.Module,
    source: str | os.PathLike | Mapping[str, torch.Tensor],
    *,
    skip_prefixes: Iterable[str] = (),
) -> nn.Module:
    """Load a weights file (or a state dict) into ``model`` strictly; returns ``model``.

    Every key and shape must match, except two, which fine-tuning changes on purpose:

    - the classifier (the last ``nn.Linear``): when the file has another number of classes, the
      file is loaded into the model with the file's head, then that head is replaced by a new,
      randomly initialised ``nn.Linear(in_features, num_classes)`` at the model's size;
    - the first convolution: when the file has other input channels, the file's kernel is loaded
      and then adapted to the model's channels (summed over RGB for one grey channel: see
      :func:`~ember.zoo.input_adapters.adapt_kernel`).

    Keys of the file starting with one of ``skip_prefixes`` are ignored when the model has no
    such keys (GoogLeNet's auxiliary heads). Anything else that does not fit raises
    :class:`~ember.errors.WeightsMismatchError` listing the missing, unexpected and mismatched
    keys with their shapes, before the model is changed.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4, 2))
        >>> load_pretrained(net, {"0.weight": torch.zeros(4, 3, 3, 3)})
        Traceback (most recent call last):
        ...
        ember.errors.WeightsMismatchError: the weights in a state dict do not fit this model:
          missing from the file: 0.bias, 2.weight, 2.bias
        Fix: build the same architecture that saved the file (same layers and sizes).
    """
    if isinstance(source, Mapping):
        stored, where = dict(source), "a state dict"
    else:
        stored, where = read_state_dict(source), str(source)
    expected = dict(model.state_dict())
    prefixes = tuple(skip_prefixes)
    stored = {k: v for k, v in stored.items() if k in expected or not k.startswith(prefixes)}
    for key in expected:
        if key.endswith(_OPTIONAL_SUFFIX):
            stored.setdefault(key, expected[key])
    # The file may differ in two sizes only, the head's classes and the first conv's channels:
    # check it against the model as it will be once it takes the file's sizes.
    linears, convs = _named(model, nn.Linear), _named(model, nn.Conv2d)
    num_classes = file_classes = linears[-1][1].out_features if linears else None
    in_channels = file_channels = convs[0][1].in_channels if convs else None
    if linears:
        name, head = linears[-1]
        file_classes = _size(stored, f"{name}.weight", head.weight, dim=0)
        expected[f"{name}.weight"] = _resized(head.weight, 0, file_classes)
        if head.bias is not None:
            expected[f"{name}.bias"] = _resized(head.bias, 0, file_classes)
    if convs:
        name, conv = convs[0]
        file_channels = _size(stored, f"{name}.weight", conv.weight, dim=1)
        expected[f"{name}.weight"] = _resized(conv.weight, 1, file_channels)
    check_compatible(expected, stored, where)
    if linears:
        replace_classifier(model, file_classes)
    if convs:
        adapt_input_channels(model, file_channels)
    model.load_state_dict(stored)
    if linears:
        replace_classifier(model, num_classes)
    if convs:
        adapt_input_channels(model, in_channels)
    return model


def _named(model: nn.Module, kind: type) -> list[tuple[str, nn.Module]]:
    """(name, submodule) of every submodule of type ``kind``, in registration order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, kind) and name]


def _size(stored: dict[str, torch.Tensor], key: str, ours: torch.Tensor, dim: int) -> int:
    """The file's size of ``key`` along ``dim`` when only that size differs, else ours."""
    theirs = stored.get(key)
    if theirs is None or theirs.ndim != ours.ndim:
        return ours.shape[dim]
    same_elsewhere = all(
        a == b for i, (a, b) in enumerate(zip(theirs.shape, ours.shape)) if i != dim
    )
    return theirs.shape[dim] if same_elsewhere else ours.shape[dim]


def _resized(tensor: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """An empty (meta) tensor shaped as ``tensor`` but ``size`` long along ``dim``."""
    shape = list(tensor.shape)
    shape[dim] = size
    return torch.empty(shape, device="meta")
