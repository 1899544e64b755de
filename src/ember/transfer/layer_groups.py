"""Layer groups and discriminative learning rates (fastai's ``slice(lo, hi)``).

A pretrained network's first layers learn general features (edges, textures) that a new task
reuses as they are; its last layers and the new head need to move most. Discriminative
learning rates give each *layer group* its own rate: the head learns at the base rate and
the first group at ``base / ratio``, geometrically spaced in between. Each weight carries its
factor as a float attribute ``lr_scale``; the engine builds one optimizer param group per
factor (``ember.train.stepping.parameter_groups``) and schedules keep their ratios.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4), torch.nn.Linear(4, 1))
    >>> [name for name, _ in layer_groups(net)]
    ['0', '2', '3']
    >>> discriminative_learning_rates(net, ratio=100.0)
    {'0': 0.01, '2': 0.1, '3': 1.0}
    >>> net[0].weight.lr_scale, net[3].bias.lr_scale
    (0.01, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.transfer.submodules import named_submodule

NamedModule = tuple[str, nn.Module]


def layer_groups(model: nn.Module) -> list[NamedModule]:
    """The children of ``model`` that hold weights, in order, with their dotted names.

    A wrapper with a single such child and no weights of its own (``ember.Model(module)``,
    ``Sequential``'s layer list) is looked through, so an ember model around a torchvision
    ResNet gives ``module.conv1``, ``module.bn1``, ``module.layer1`` ... ``module.fc``.

    Example:
        >>> import ember, torch
        >>> model = ember.Model(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)))
        >>> [name for name, _ in layer_groups(model)]
        ['module.0', 'module.1']
    """
    module, prefix = model, ""
    while True:
        children = [(n, c) for n, c in module.named_children() if _has_weights(c)]
        if len(children) == 1 and not list(module.parameters(recurse=False)):
            name, module = children[0]
            prefix = f"{prefix}{name}."
            continue
        return [(prefix + name, child) for name, child in children]


def discriminative_learning_rates(
    model: nn.Module, ratio: float = 100.0, groups: Sequence[Any] | None = None
) -> dict[str, float]:
    """Give every weight of ``model`` an ``lr_scale``: 1 in the last group (the head),
    ``1 / ratio`` in the first, geometrically spaced in between (fastai's ``slice(lo, hi)``).

    Args:
        model: any ``nn.Module``.
        ratio: how many times faster the last group learns than the first.
        groups: dotted submodule names (or ``(name, module)`` pairs) in order; None:
            :func:`layer_groups`. A weight in no group takes the scale of the first group
            registered after it (the last group's if none is): ViT's class token, registered
            on the model itself, learns with the first group.

    Returns:
        Each group's scale by name.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
        >>> discriminative_learning_rates(net, ratio=10.0, groups=["1"])
        {'1': 1.0}
        >>> net[0].weight.lr_scale  # before the only group: takes its scale
        1.0
    """
    ratio = checks.positive_number("ratio", ratio)
    named = layer_groups(model) if groups is None else [_resolve(model, g) for g in groups]
    if not named:
        raise ConfigError(
            f"{type(model).__name__} has no layer group holding weights, so there is nothing to "
            f"give learning rates to. Fix: pass groups=[...] with the names of its parts."
        )
    last = len(named) - 1
    scales = [ratio ** -((last - i) / last) if last else 1.0 for i in range(len(named))]
    group_of = {id(p): i for i, (_, module) in enumerate(named) for p in module.parameters()}
    following = last  # walking backwards: the group of the nearest grouped weight after this one
    for parameter in reversed(list(model.parameters())):
        following = group_of.get(id(parameter), following)
        parameter.lr_scale = scales[following]
    return {name: scale for (name, _), scale in zip(named, scales)}


def clear_learning_rate_scales(model: nn.Module) -> int:
    """Remove every ``lr_scale`` from ``model``'s weights (all learn at the base rate again);
    returns how many weights had one.

    Example:
        >>> import torch
        >>> net = torch.nn.Linear(2, 1)
        >>> _ = discriminative_learning_rates(net, groups=[""])
        >>> clear_learning_rate_scales(net), hasattr(net.weight, "lr_scale")
        (2, False)
    """
    cleared = 0
    for parameter in model.parameters():
        if hasattr(parameter, "lr_scale"):
            del parameter.lr_scale
            cleared += 1
    return cleared


def _has_weights(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def _resolve(model: nn.Module, group: Any) -> NamedModule:
    if isinstance(group, tuple) and len(group) == 2 and isinstance(group[1], nn.Module):
        return group
    return group, named_submodule(model, group)
