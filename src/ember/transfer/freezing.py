"""``freeze`` and ``unfreeze``: which weights of a (pretrained) model train.

A frozen weight has ``requires_grad=False``: the engine leaves it out of the optimizer (no
state, no weight decay) and out of ``backward``. The order is ``model.named_modules()``'s, which
is ``model.named_parameters()``'s: ``freeze(model, up_to="layer3")`` freezes every weight
registered up to the end of ``layer3``, the way one freezes the bottom of a network and
fine-tunes its top.

Batch-norm layers follow Keras by default (``batchnorm="inference"``): frozen, they run in
inference mode even while the model trains, using and keeping their running statistics.
``batchnorm="train"`` is fastai's ``train_bn``: they stay trainable and in training mode.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(
    ...     torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    >>> freeze(net, up_to="1")
    ['0.weight', '0.bias', '1.weight', '1.bias']
    >>> [p.requires_grad for p in net.parameters()]
    [False, False, False, False, True, True]
    >>> unfreeze(net, starting_at="1")
    ['1.weight', '1.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

from torch import nn

from ember.layers.freezing import set_trainable
from ember.transfer.submodules import NamedModules, subtree_end, subtree_start


def freeze(
    model: nn.Module, up_to: str | None = None, *, batchnorm: str = "inference"
) -> list[str]:
    """Freeze every weight of ``model``, or those registered up to and including the submodule
    named ``up_to`` (a dotted name from ``model.named_modules()``: ``"layer3"``,
    ``"features.16"``).

    Args:
        model: any ``nn.Module``.
        up_to: the last submodule to freeze; None freezes them all.
        batchnorm: ``"inference"`` (Keras): frozen batch-norm layers use and keep their running
            statistics even in ``model.train()``; ``"train"`` (fastai's ``train_bn``): they
            stay trainable and keep training.

    Returns:
        The names of the weights in that range that are now frozen.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
        >>> freeze(net, batchnorm="train")  # the batch-norm layer keeps training
        ['0.weight', '0.bias']
    """
    modules = list(model.named_modules()) if up_to is None else subtree_end(model, up_to)
    set_trainable((module for _, module in modules), False, batchnorm=batchnorm)
    return _parameter_names(model, modules, requires_grad=False)


def unfreeze(model: nn.Module, starting_at: str | None = None) -> list[str]:
    """Unfreeze every weight of ``model``, or those of the submodule named ``starting_at`` and
    of every module registered after it; batch-norm layers there train normally again.

    Returns:
        The names of the weights in that range (all trainable now).

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
        >>> _ = freeze(net)
        >>> unfreeze(net, starting_at="1")
        ['1.weight', '1.bias']
    """
    modules = (
        list(model.named_modules()) if starting_at is None else subtree_start(model, starting_at)
    )
    set_trainable((module for _, module in modules), True, training=model.training)
    return _parameter_names(model, modules, requires_grad=True)


def _parameter_names(model: nn.Module, modules: NamedModules, requires_grad: bool) -> list[str]:
    inside = {id(p) for _, module in modules for p in module.parameters(recurse=False)}
    return [
        name
        for name, parameter in model.named_parameters()
        if id(parameter) in inside and parameter.requires_grad == requires_grad
    ]
