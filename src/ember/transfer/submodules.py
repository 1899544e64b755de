"""Finding a model's submodules by their dotted names, with errors that list the right ones.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> [name for name, _ in subtree_end(net, "1")]
    ['', '0', '1']
"""

from __future__ import annotations

import difflib

from torch import nn

from ember.errors import ConfigError

NamedModules = list[tuple[str, nn.Module]]


def named_submodule(model: nn.Module, name: str) -> nn.Module:
    """The submodule of ``model`` named ``name`` (as in ``model.named_modules()``).

    Example:
        >>> import torch
        >>> named_submodule(torch.nn.Sequential(torch.nn.ReLU()), "0")
        ReLU()
        >>> named_submodule(torch.nn.Sequential(torch.nn.ReLU()), "relu")
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: Sequential has no submodule named 'relu'...
    """
    modules = list(model.named_modules())
    return modules[_index_of(model, modules, name)][1]


def subtree_end(model: nn.Module, name: str) -> NamedModules:
    """``model.named_modules()`` from the start up to and including ``name`` and everything
    inside it: the modules registered up to the end of that submodule.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Sequential(torch.nn.ReLU()), torch.nn.ReLU())
        >>> [name for name, _ in subtree_end(net, "0")]
        ['', '0', '0.0']
    """
    modules = list(model.named_modules())
    end = _index_of(model, modules, name) + 1
    prefix = f"{name}." if name else ""
    while end < len(modules) and modules[end][0].startswith(prefix):
        end += 1  # named_modules lists a module's descendants right after it
    return modules[:end]


def subtree_start(model: nn.Module, name: str) -> NamedModules:
    """``model.named_modules()`` from ``name`` to the end: that submodule and every module
    registered after it.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
        >>> [name for name, _ in subtree_start(net, "1")]
        ['1']
    """
    modules = list(model.named_modules())
    return modules[_index_of(model, modules, name) :]


def _index_of(model: nn.Module, modules: NamedModules, name: str) -> int:
    if not isinstance(name, str):
        raise ConfigError(
            f"expected a submodule's dotted name (a string such as 'layer3'), received "
            f"{name!r}. Fix: pick one from [name for name, _ in model.named_modules()]."
        )
    for index, (candidate, _) in enumerate(modules):
        if candidate == name:
            return index
    children = [child for child, _ in model.named_children()]
    close = difflib.get_close_matches(name, [n for n, _ in modules if n], n=3, cutoff=0.6)
    hint = f" Close matches: {close}." if close else ""
    raise ConfigError(
        f"{type(model).__name__} has no submodule named {name!r}. Its top-level children are "
        f"{children}.{hint} Fix: pass a dotted name from model.named_modules(), such as "
        f"{(close or children or [''])[0]!r}."
    )
