"""Freezing and unfreezing parameters, and Keras' batch-norm rule for frozen layers.

The mechanics shared by ``Layer.trainable``, ``Model.trainable`` and :mod:`ember.transfer`:
:func:`set_trainable` switches the *own* parameters (``recurse=False``) of the modules it is
given, so a caller chooses the range (a whole model, or its modules up to some layer).

Keras' rule: a frozen batch-norm layer runs in inference mode even while the model trains (it
normalises with its running statistics and leaves them alone), otherwise fine-tuning a
pretrained network with small batches wrecks the statistics it was trained with. fastai keeps
batch-norm layers training instead (``batchnorm="train"``: their parameters stay trainable and
their statistics keep updating).

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    >>> frozen = set_trainable(net.modules(), False)
    >>> [p.requires_grad for p in net.parameters()], held_in_inference(net[1])
    ([False, False, False, False], True)
    >>> net.train()(torch.randn(4, 2)).shape, net[1].training  # the hook keeps it in inference
    (torch.Size([4, 3]), False)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import nn
from torch.nn.parameter import is_lazy

from ember import checks

BATCHNORM_RULES = ("inference", "train")

# Plain attributes that ember sets on any module it freezes (a torchvision model included):
# the forward pre-hook's handle on a held batch-norm layer, and the trainable setting of a
# module, kept so that a lazy layer frozen before it has weights is frozen when it builds them.
_HOOK = "_ember_inference_hook"
_SETTING = "_ember_trainable"


def is_batchnorm(module: nn.Module) -> bool:
    """Whether ``module`` keeps batch statistics (``running_mean`` and ``running_var``):
    ``torch.nn.BatchNorm1d/2d/3d``, ``SyncBatchNorm``, ember's ``BatchNormalization``, timm's.

    Example:
        >>> is_batchnorm(nn.BatchNorm2d(3)), is_batchnorm(nn.LayerNorm(3))
        (True, False)
    """
    return hasattr(module, "running_mean") and hasattr(module, "running_var")


def set_trainable(
    modules: Iterable[nn.Module],
    trainable: bool,
    *,
    batchnorm: str = "inference",
    training: bool | None = None,
) -> list[nn.Parameter]:
    """Unfreeze (``trainable=True``) or freeze each module's own parameters; return those changed
    to frozen (freezing) or to trainable (unfreezing).

    Freezing, ``batchnorm="inference"`` also holds each batch-norm layer in inference mode
    (:func:`hold_in_inference`); ``batchnorm="train"`` leaves batch-norm layers trainable and
    training. Unfreezing releases the hold and puts a released layer in ``training`` mode (the
    model's, say; None leaves it to the next ``model.train()``). A module's setting is remembered, so that lazy
    layers without weights yet are frozen when they build them (:func:`apply_settings`).

    Example:
        >>> layer = nn.Linear(2, 1)
        >>> len(set_trainable([layer], False)), layer.weight.requires_grad
        (2, False)
    """
    checks.one_of("batchnorm", batchnorm, BATCHNORM_RULES)
    changed = []
    for module in modules:
        keep_training = not trainable and batchnorm == "train" and is_batchnorm(module)
        wanted = bool(trainable) or keep_training
        setattr(module, _SETTING, wanted)
        for parameter in module.parameters(recurse=False):
            if is_lazy(parameter):
                continue  # no tensor yet: apply_settings freezes it once the layer builds it
            if parameter.requires_grad != wanted:
                parameter.requires_grad_(wanted)
                changed.append(parameter)
        if is_batchnorm(module):
            if wanted:
                release_from_inference(module, training)
            else:
                hold_in_inference(module)
    return changed


def is_trainable(module: nn.Module) -> bool:
    """Keras' ``trainable``: whether any of ``module``'s weights trains; for a module without
    weights (a lazy layer not built yet) the last :func:`set_trainable` setting.

    Example:
        >>> layer = nn.Linear(2, 1)
        >>> _ = layer.bias.requires_grad_(False)
        >>> is_trainable(layer), is_trainable(nn.ReLU())
        (True, True)
    """
    parameters = [p for p in module.parameters() if not is_lazy(p)]
    if not parameters:
        return trainable_setting(module)
    return any(p.requires_grad for p in parameters)


def trainable_setting(module: nn.Module) -> bool:
    """The last setting :func:`set_trainable` gave ``module`` (True if never set).

    Example:
        >>> layer = nn.Identity()
        >>> _ = set_trainable([layer], False)
        >>> trainable_setting(layer), trainable_setting(nn.Identity())
        (False, True)
    """
    return getattr(module, _SETTING, True)


def apply_settings(module: nn.Module) -> None:
    """Freeze the parameters a lazy layer just created under ``module`` if it was frozen before
    it had them (Keras lets ``layer.trainable = False`` come before the layer is built).

    Example:
        >>> import torch
        >>> layer = nn.LazyLinear(2)
        >>> _ = set_trainable([layer], False)
        >>> _ = layer(torch.ones(1, 3)); apply_settings(layer)
        >>> layer.weight.requires_grad
        False
    """
    frozen = [m for m in module.modules() if not trainable_setting(m)]
    if frozen:
        set_trainable(frozen, False)


def hold_in_inference(module: nn.Module) -> None:
    """Make ``module`` run in inference mode whatever ``model.train()`` says, until released.

    A forward pre-hook sets ``module.training = False`` before each call. Why a hook rather than
    overriding ``train()``: ``nn.Module.train`` sets every child's flag, so an override would have
    to replace a method on the instance (which copies and pickling do not keep) or its class; a
    hook is torch's public API, is copied with the module and comes off with its handle.

    Example:
        >>> import torch
        >>> norm = nn.BatchNorm1d(3)
        >>> hold_in_inference(norm)
        >>> _ = norm.train()(torch.randn(4, 3) + 5)  # not a training step: nothing updated
        >>> norm.training, norm.running_mean.tolist()
        (False, [0.0, 0.0, 0.0])
    """
    if getattr(module, _HOOK, None) is None:
        setattr(module, _HOOK, module.register_forward_pre_hook(_inference_mode))
    module.training = False


def release_from_inference(module: nn.Module, training: bool | None = None) -> None:
    """Undo :func:`hold_in_inference`; ``training`` (if given) is the mode the module goes back to.

    Example:
        >>> norm = nn.BatchNorm1d(3)
        >>> hold_in_inference(norm); release_from_inference(norm, training=True)
        >>> held_in_inference(norm), norm.training
        (False, True)
    """
    handle = getattr(module, _HOOK, None)
    if handle is not None:
        handle.remove()
        setattr(module, _HOOK, None)
    if training is not None:
        module.training = training


def held_in_inference(module: nn.Module) -> bool:
    """Whether :func:`hold_in_inference` holds ``module``.

    Example:
        >>> held_in_inference(nn.BatchNorm1d(3))
        False
    """
    return getattr(module, _HOOK, None) is not None


def _inference_mode(module: nn.Module, inputs: Any) -> None:
    module.training = False
