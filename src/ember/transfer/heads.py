"""A model's classifier head: finding it, replacing it for a new task, or removing it.

The head is what timm's ``get_classifier()`` returns when the model has it, else the last
``nn.Linear`` (or ember ``Dense``) in ``model.named_modules()`` order: torchvision's ResNet
``fc``, VGG ``classifier.6``, MobileNetV2 ``classifier.1``, ViT ``heads.head``.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
    >>> head_of(net)
    ('2', Linear(in_features=8, out_features=10, bias=True))
    >>> replace_head(net, 3)
    Linear(in_features=8, out_features=3, bias=True)
    >>> without_head(net)(torch.randn(5, 4)).shape  # a copy that returns the features
    torch.Size([5, 8])
"""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.layers.core import Dense


def head_of(model: nn.Module) -> tuple[str, nn.Module]:
    """The classifier of ``model`` and its dotted name in ``model.named_modules()``.

    Example:
        >>> import torch
        >>> head_of(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)))
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: found no classifier head in Sequential...
    """
    get_classifier = getattr(model, "get_classifier", None)  # timm's API
    if callable(get_classifier):
        classifier = get_classifier()
        for name, module in model.named_modules():
            if module is classifier:
                return name, module
    heads = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, Dense))]
    if not heads:
        raise ConfigError(
            f"found no classifier head in {type(model).__name__}: it has no get_classifier() "
            f"and no nn.Linear (or ember Dense) layer. Fix: replace the part that classifies "
            f"yourself (setattr(parent, name, new_module))."
        )
    return heads[-1]


def replace_head(model: nn.Module, num_classes: int, *, dropout: float = 0.0) -> nn.Module:
    """Swap the head (:func:`head_of`) for a fresh one with ``num_classes`` outputs, in place.

    The new head is an ``nn.Linear(in_features, num_classes)`` (an ember ``Dense`` with the same
    settings for a ``Dense`` head), after an ``nn.Dropout(dropout)`` when ``dropout > 0``, on
    the old head's device and dtype. Returns the module put in place.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 10))
        >>> replace_head(net, 2, dropout=0.5)
        Sequential(
          (0): Dropout(p=0.5, inplace=False)
          (1): Linear(in_features=8, out_features=2, bias=True)
        )
    """
    checks.positive_int("num_classes", num_classes)
    checks.rate("dropout", dropout)
    name, head = head_of(model)
    reference = next(itertools.chain(head.parameters(), model.parameters()), None)
    if isinstance(head, Dense):
        new = _dense_like(head, num_classes, dropout)
    else:
        new = nn.Linear(_in_features(model, name, head), num_classes)
    if reference is not None:
        new.to(device=reference.device, dtype=reference.dtype)
    if dropout > 0:
        new = nn.Sequential(nn.Dropout(dropout), new)
    _put(model, name, new)
    return new


def without_head(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose head is an ``nn.Identity``, so that it returns the features the
    head took. ``model`` is left whole; the copy holds its own weights (``copy.deepcopy``), so
    training one leaves the other alone.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 10))
        >>> without_head(net)
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): Identity()
        )
    """
    name, _ = head_of(model)
    body = copy.deepcopy(model)
    _put(body, name, nn.Identity())
    return body


def _in_features(model: nn.Module, name: str, head: nn.Module) -> int:
    if isinstance(head, nn.Linear) and not isinstance(head, nn.LazyLinear):
        return head.in_features
    features = getattr(model, "num_features", None)  # timm: the width its classifier takes
    if checks.is_int(features) and features > 0:
        return int(features)
    raise ConfigError(
        f"cannot tell how many features the head {name!r} ({type(head).__name__}) of "
        f"{type(model).__name__} takes. Fix: run the model on a batch first (lazy layers), "
        f"or replace it yourself with nn.Linear(in_features, num_classes)."
    )


def _dense_like(head: Dense, num_classes: int, dropout: float) -> Dense:
    if not head.built:
        raise ConfigError(
            f"the head {head.name!r} (Dense) is not built yet, so its input size is unknown. "
            f"Fix: build the model first (model.build(input_shape) or one batch through it)."
        )
    if dropout > 0:
        # A Sequential trains on its last layer's logits (Layer.call): it must stay a Dense.
        raise ConfigError(
            f"replace_head cannot put dropout before the Dense head {head.name!r}, received "
            f"dropout={dropout}. Fix: add layers.Dropout({dropout}) to the model yourself and "
            f"call replace_head with dropout=0."
        )
    new = type(head)(**{**head.get_config(), "units": num_classes})
    new.build_from_input(torch.zeros(1, *head.built_input_shape))
    return new


def _put(model: nn.Module, name: str, module: nn.Module) -> None:
    if not name:
        raise ConfigError(
            f"the head of {type(model).__name__} is the model itself; there is nothing to keep "
            f"around it. Fix: pass the network that contains the head."
        )
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name), child, module)
