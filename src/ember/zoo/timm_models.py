"""timm's models in the zoo: ``create("timm/<name>")`` builds ``timm.create_model(name)``.

timm is optional (``pip install timm``) and imported on first use. ember never lets timm
download: models are built with ``pretrained=False``, and ``pretrained=True`` loads the file
timm would have cached (:func:`timm_weights_file`), through ember's strict loader.

Example:
    >>> model = create_timm("resnet18", num_classes=3, in_channels=1)
    >>> model(torch.rand(2, 1, 32, 32)).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, UnknownNameError
from ember.vision_imports import import_timm
from ember.zoo.pretrained import PretrainedNotFoundError

PREFIX = "timm/"  # create("timm/resnet18") is timm's resnet18
# The files a timm model's Hugging Face repository may hold its weights in, in timm's order.
HF_WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")


def check_timm_name(name: str) -> None:
    """Raise :class:`~ember.errors.UnknownNameError` with timm's close names unless timm knows
    ``name`` (an architecture, optionally with a pretrained tag: ``"resnet18.a1_in1k"``).

    Example:
        >>> check_timm_name("resnet19")
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown timm model 'resnet19'. Did you mean 'resnet18', ...
    """
    timm = import_timm()
    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
    suggestion = f" Did you mean {', '.join(repr(n) for n in close)}?" if close else ""
    raise UnknownNameError(
        f"unknown timm model {name!r}.{suggestion} Fix: pick a name from "
        f"ember.zoo.list_models('timm/*') (timm.list_models())."
    )


def create_timm(name: str, *, num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """``timm.create_model(name, num_classes=..., in_chans=..., pretrained=False, **kwargs)``.

    Example:
        >>> create_timm("resnet18", num_classes=5, in_channels=3).fc.out_features
        5
    """
    check_timm_name(name)
    return import_timm().create_model(
        name, pretrained=False, num_classes=num_classes, in_chans=in_channels, **kwargs
    )


def list_timm(pattern: str | None = None) -> list[str]:
    """timm's model names matching ``pattern`` (fnmatch, as ``timm.list_models``), prefixed.

    Example:
        >>> list_timm("resnet18*")[:2]
        ['timm/resnet18', 'timm/resnet18d']
    """
    return [PREFIX + name for name in import_timm().list_models(pattern or "")]


def timm_weights_file(name: str) -> Path:
    """The weights file timm would have cached for ``name``; never downloads.

    With a Hugging Face repository in the model's pretrained config, the file is looked up in
    the Hugging Face cache (``huggingface_hub``, offline); else in torch hub's
    ``checkpoints`` folder under the URL's file name. Raises
    :class:`~ember.zoo.pretrained.PretrainedNotFoundError` saying where to put it.

    Example:
        >>> timm_weights_file("resnet18").name  # doctest: +SKIP
        'model.safetensors'
    """
    check_timm_name(name)
    config = import_timm().models.get_pretrained_cfg(name)
    if config is None or not (config.hf_hub_id or config.url):
        raise ConfigError(
            f"timm publishes no pretrained weights for {name!r}, received pretrained=True. "
            f"Fix: pass pretrained= a weights file, or pretrained=None."
        )
    if config.hf_hub_id:
        return _hugging_face_file(name, config.hf_hub_id)
    path = Path(torch.hub.get_dir()) / "checkpoints" / config.url.rsplit("/", 1)[-1]
    if not path.is_file():
        raise PretrainedNotFoundError(
            f"timm's weights for {name!r} are not on this machine: ember looked for {path.name} "
            f"in {path.parent} and does not download. Fix: download {config.url} into that "
            f"folder, or pass pretrained= the path of a weights file."
        )
    return path


def _hugging_face_file(name: str, repository: str) -> Path:
    # Imported here: huggingface_hub comes with timm, which is optional.
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    for file_name in HF_WEIGHTS_FILES:
        found = try_to_load_from_cache(repository, file_name)
        if isinstance(found, str):  # else None or a "known to be absent" marker
            return Path(found)
    url = f"https://huggingface.co/{repository}/resolve/main/{HF_WEIGHTS_FILES[0]}"
    raise PretrainedNotFoundError(
        f"timm's weights for {name!r} (Hugging Face repository {repository}) are not in the "
        f"Hugging Face cache, {HF_HUB_CACHE}, and ember does not download. Fix: on a machine "
        f"with network run timm.create_model({name!r}, pretrained=True) once (or fetch {url}), "
        f"or pass pretrained= the path of a weights file."
    )
