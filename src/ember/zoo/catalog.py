"""The zoo's image models by name: :func:`create`, :func:`list_models`, :func:`describe_model`.

Each family module registers its variants here (:func:`register`, as timm's model files do);
``ember.zoo`` imports them all, so the catalog is complete whenever ``ember.zoo`` is imported.
``create("timm/<name>")`` builds any of timm's models. Every model is a plain ``nn.Module``
that returns logits: for the torchvision families, the torchvision model object itself.

Example:
    >>> import torch
    >>> from ember.zoo import create
    >>> model = create("lenet5", num_classes=10, in_channels=1, data_format="channels_last")
    >>> model(torch.rand(2, 28, 28, 1)).shape  # Keras-style (N, H, W, C) images
    torch.Size([2, 10])
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from torch import nn

from ember import checks
from ember.errors import ConfigError, UnknownNameError
from ember.registry import Registry
from ember.zoo import timm_models
from ember.zoo.checkpoints import check_weights_file, load_pretrained, torchvision_weights_file
from ember.zoo.input_adapters import DATA_FORMATS, adapt_input_channels, set_data_format
from ember.zoo.pretrained import PretrainedNotFoundError


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: how to build it, and what ``ember list`` says about it.

    Example:
        >>> entry("resnet18").family, entry("resnet18").parameters
        ('resnet', 11689512)
    """

    name: str  # what create() takes
    family: str  # the architecture family: "resnet", "vgg", "vit", ...
    description: str  # one line, for `ember list`
    image_size: int  # the height and width of the images it is meant for
    test_image_size: int  # the smallest sensible input; ViTs are built for it (image_size=)
    parameters: int | None  # the published count at 1000 classes and 3x224x224, if any
    # build(num_classes=, in_channels=, **kwargs) -> a module taking native_format images.
    build: Callable[..., nn.Module] = field(repr=False, compare=False)
    native_format: str = "channels_first"
    # The torchvision builder whose DEFAULT weights pretrained=True loads (None: no such weights).
    torchvision_weights: str | None = None
    # Builder arguments those weights need (GoogLeNet's transform_input), used with 3 channels.
    pretrained_kwargs: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Keys of a weights file the model may lack on purpose (GoogLeNet's auxiliary heads).
    skip_prefixes: tuple[str, ...] = ()
    # Other pretrained= names, each with its loader(model), run on the 3-channel model.
    named_weights: Mapping[str, Callable[[nn.Module], None]] = field(
        default_factory=dict, compare=False, repr=False
    )


_CATALOG = Registry("vision model")


def register(model_entry: ModelEntry) -> ModelEntry:
    """Add ``model_entry`` to the catalog (a name may be registered once).

    Example:
        >>> register(entry("resnet18"))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: a vision model named 'resnet18' is already registered. ...
    """
    if model_entry.name in _CATALOG:
        raise ConfigError(
            f"a vision model named {model_entry.name!r} is already registered. Fix: give the "
            f"new entry another name."
        )
    _CATALOG.add(model_entry.name, model_entry)
    return model_entry


def entry(name: str) -> ModelEntry:
    """The catalog entry of ``name``; an unknown name raises listing close names.

    Example:
        >>> entry("resnet19")
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown vision model 'resnet19'. Did you mean 'resnet18' ...
    """
    if isinstance(name, str) and name not in _CATALOG:
        raise UnknownNameError(
            f"{_CATALOG.unknown_message(name)} Fix: use one of list_models(), or "
            f"'timm/<name>' for a timm model."
        )
    return _CATALOG.get(name)


def entries() -> tuple[ModelEntry, ...]:
    """Every registered entry, sorted by name.

    Example:
        >>> [e.name for e in entries() if e.family == "lenet"]
        ['lenet5']
    """
    return tuple(_CATALOG.get(name) for name in _CATALOG.names())


def list_models(pattern: str | None = None) -> list[str]:
    """The registered names, sorted; ``pattern`` filters them (fnmatch, as timm's).

    ``"timm/*"`` patterns list timm's models instead (``"timm/resnet1*"``).

    Example:
        >>> list_models("resnet18*")
        ['resnet18', 'resnet18_small_input']
    """
    if pattern is not None and pattern.startswith(timm_models.PREFIX):
        return timm_models.list_timm(pattern[len(timm_models.PREFIX) :])
    names = _CATALOG.names()
    return names if pattern is None else fnmatch.filter(names, pattern.lower())


def describe_model(name: str) -> str:
    """A one-line description of ``name``.

    Example:
        >>> describe_model("lenet5")
        'LeNet-5 (LeCun et al. 1998) for 28x28 or 32x32 grey images'
    """
    if name.startswith(timm_models.PREFIX):
        timm_name = name[len(timm_models.PREFIX) :]
        timm_models.check_timm_name(timm_name)
        return f"timm's {timm_name} (timm.create_model)"
    return entry(name).description


def create(
    name: str,
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    pretrained: bool | str | os.PathLike | None = None,
    data_format: str = "channels_first",
    **kwargs: Any,
) -> nn.Module:
    """Build the image model ``name``: a plain ``nn.Module`` returning ``num_classes`` logits.

    Args:
        name: a name of :func:`list_models`, or ``"timm/<name>"`` for a timm model.
        num_classes: how many logits to return. With pretrained weights for another number of
            classes, the weights are loaded, then the classifier is replaced by a new, randomly
            initialised ``nn.Linear(in_features, num_classes)``: a new head to fine-tune.
        in_channels: channels of the input images (1 for grey). The first convolution is rebuilt
            for them after any weights are loaded: pretrained RGB kernels are summed for one
            channel (see :func:`~ember.zoo.input_adapters.adapt_input_channels`).
        pretrained: None (random weights); a ``.safetensors`` or ``.pt``/``.pth``/``.bin``
            state-dict file; True for the family's standard weights where torchvision (or
            timm) caches them on this machine (never downloaded); or a name the entry offers
            (``"hed"`` for VGG16's HED edge-detection convolutions). Loading is strict.
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` images, ``"channels_last"`` for
            Keras-style ``(N, H, W, C)`` ones (ember's datasets); recorded as
            ``model.data_format``. Every entry takes either, whatever its own layout.
        **kwargs: passed to the builder (``dropout=``, ``image_size=`` for ViTs ...).

    Example:
        >>> import torch
        >>> model = create("resnet18_small_input", num_classes=10, in_channels=1)
        >>> model(torch.rand(2, 1, 28, 28)).shape, type(model).__name__
        (torch.Size([2, 10]), 'ResNet')
    """
    if not isinstance(name, str):
        raise ConfigError(f"expected a model name (a string), received name={name!r}")
    num_classes = checks.positive_int("num_classes", num_classes)
    in_channels = checks.positive_int("in_channels", in_channels)
    checks.one_of("data_format", data_format, DATA_FORMATS)
    if pretrained is False:
        pretrained = None
    if not (pretrained is None or pretrained is True or isinstance(pretrained, (str, os.PathLike))):
        raise ConfigError(
            f"expected pretrained=None, True, a weights file or a weights name, received "
            f"pretrained={pretrained!r}. Fix: e.g. pretrained='weights.safetensors'."
        )
    if name.startswith(timm_models.PREFIX):
        model = _create_timm(
            name[len(timm_models.PREFIX) :], num_classes, in_channels, pretrained, kwargs
        )
        return set_data_format(model, data_format)
    model_entry = entry(name)
    label = f"create({name!r})"
    if isinstance(pretrained, str) and pretrained in model_entry.named_weights:
        # Named loaders fill the standard 3-channel model; adapt the channels afterwards.
        model = _build(label, model_entry.build, num_classes, 3, kwargs)
        model_entry.named_weights[pretrained](model)
        return set_data_format(
            adapt_input_channels(model, in_channels), data_format, model_entry.native_format
        )
    _check_weights_name(model_entry, pretrained)
    if pretrained is True:
        pretrained = _standard_file(model_entry)
        if in_channels == 3:
            kwargs = {**model_entry.pretrained_kwargs, **kwargs}
    if pretrained is not None:
        pretrained = check_weights_file(pretrained)  # before the (maybe slow) build
    model = _build(label, model_entry.build, num_classes, in_channels, kwargs)
    if pretrained is not None:
        load_pretrained(model, pretrained, skip_prefixes=model_entry.skip_prefixes)
    return set_data_format(model, data_format, native=model_entry.native_format)


def _check_weights_name(model_entry: ModelEntry, pretrained: Any) -> None:
    """Raise for a string that is neither an offered weights name nor a path to a file."""
    looks_like_a_name = (
        isinstance(pretrained, str)
        and not any(c in pretrained for c in "./\\")
        and not os.path.exists(pretrained)
    )
    if looks_like_a_name:
        offered = ", ".join(repr(n) for n in model_entry.named_weights) or "none"
        raise ConfigError(
            f"{model_entry.name!r} has no weights named {pretrained!r} (names it offers: "
            f"{offered}). Fix: pass one of those, True, or the path of a weights file."
        )


def _build(
    label: str,
    builder: Callable[..., nn.Module],
    num_classes: int,
    in_channels: int,
    kwargs: dict[str, Any],
) -> nn.Module:
    """``builder(num_classes=, in_channels=, **kwargs)``; a misspelt argument is a ConfigError."""
    try:
        return builder(num_classes=num_classes, in_channels=in_channels, **kwargs)
    except TypeError as error:
        if "unexpected keyword argument" not in str(error):
            raise
        raise ConfigError(
            f"{label} received an argument its builder does not take ({error}). "
            f"Fix: drop it or correct its spelling."
        ) from error


def _standard_file(model_entry: ModelEntry) -> os.PathLike:
    """The cached torchvision weights of ``model_entry``; raises saying where to put them."""
    if model_entry.torchvision_weights is None:
        others = "".join(f" or pretrained={n!r}" for n in model_entry.named_weights)
        raise ConfigError(
            f"{model_entry.name!r} has no standard pretrained weights, received pretrained=True. "
            f"Fix: pass pretrained= a weights file{others}, or use an ImageNet model such as "
            f"'resnet18'."
        )
    path, url = torchvision_weights_file(model_entry.torchvision_weights)
    if not path.is_file():
        raise PretrainedNotFoundError(
            f"the standard weights of {model_entry.name!r} are not on this machine: ember looked "
            f"for {path.name} in {path.parent} and never downloads. Fix: download {url} into "
            f"that folder (torch.hub.get_dir()/checkpoints, as torchvision caches it), or pass "
            f"pretrained= the path of a weights file."
        )
    return path


def _create_timm(
    name: str, num_classes: int, in_channels: int, pretrained: Any, kwargs: dict[str, Any]
) -> nn.Module:
    """timm's ``name``; ``pretrained`` as for :func:`create`, where True is timm's cached file."""
    timm_models.check_timm_name(name)
    if pretrained is True:
        pretrained = timm_models.timm_weights_file(name)
    if pretrained is not None:
        pretrained = check_weights_file(pretrained)
    label = f"create({timm_models.PREFIX + name!r})"
    model = _build(label, partial(timm_models.create_timm, name), num_classes, in_channels, kwargs)
    if pretrained is not None:
        load_pretrained(model, pretrained)
    return model
