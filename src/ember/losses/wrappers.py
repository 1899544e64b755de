"""Wrappers that give ``torch.nn`` loss modules and plain functions ember's loss interface."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember.errors import ConfigError
from ember.losses.base import Loss, _like, _per_sample_mean, _weighted_mean, masked_mean

_TORCH_KINDS: dict[type, tuple[str, bool, str]] = {  # type -> (kind, from_logits, targets)
    nn.CrossEntropyLoss: ("multiclass", True, "any"),
    # NLLLoss takes log-probabilities; softmax of those gives the probabilities back, so metrics
    # may treat them as logits.
    nn.NLLLoss: ("multiclass", True, "sparse"),
    nn.BCEWithLogitsLoss: ("binary", True, "any"),
    nn.BCELoss: ("binary", False, "any"),
}


_FUNCTION_KINDS: dict[Any, tuple[str, bool, str]] = {
    F.cross_entropy: ("multiclass", True, "any"),
    F.nll_loss: ("multiclass", True, "sparse"),
    F.binary_cross_entropy_with_logits: ("binary", True, "any"),
    F.binary_cross_entropy: ("binary", False, "any"),
}


class TorchLoss(Loss):
    """A ``torch.nn`` loss module (``nn.CrossEntropyLoss()``, ``nn.MSELoss()`` ...) with ember's
    ``sample_weight`` and ``kind``.

    Unweighted, the module runs as it is; weighted, a copy with ``reduction="none"`` gives the
    per-element losses that are then reduced the Keras way.

    Example:
        >>> import torch
        >>> loss = TorchLoss(torch.nn.CrossEntropyLoss())
        >>> loss.kind, loss.from_logits
        ('multiclass', True)
        >>> logits, labels = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 0])
        >>> round(loss(logits, labels, sample_weight=torch.tensor([1.0, 0.0])).item(), 4)
        0.0635
    """

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss
        self.name = type(loss).__name__
        self.kind, self.from_logits, self.targets = next(
            (v for t, v in _TORCH_KINDS.items() if isinstance(loss, t)),
            ("regression", False, "any"),
        )
        self._per_element: nn.Module | None = None

    def _per_element_loss(self) -> nn.Module:
        # A shallow copy of the module with reduction="none"; it shares the parameters and buffers
        # (e.g. class weights) and is made again if those were replaced (by .to() or a deep copy).
        per_element = self._per_element
        if per_element is None or per_element._buffers is not self.loss._buffers:
            per_element = copy.copy(self.loss)
            per_element.reduction = "none"
            # Kept out of the module tree, so that it is neither moved twice nor saved.
            self.__dict__["_per_element"] = per_element
        return per_element

    def _prepare(self, y_pred: torch.Tensor, y_true: torch.Tensor):
        if self.kind == "multiclass":
            if not y_true.is_floating_point():
                if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
                    y_true = y_true.squeeze(-1)
                y_true = y_true.long()
            return y_pred, y_true
        return _like(y_pred, y_true)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self.values(y_pred, y_true).reshape(y_pred.shape[0], -1))

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self._per_element_loss()(*self._prepare(y_pred, y_true))

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self.loss(*self._prepare(y_pred, y_true))

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, from_logits={self.from_logits}"


class FunctionLoss(Loss):
    """A plain function ``fn(y_pred, y_true)`` returning per-sample losses (N, ...) or a scalar.

    ``kind`` and ``from_logits`` are read from attributes of the function if it has them
    (default: a regression loss; ``F.cross_entropy`` and the other torch cross-entropies are
    known). A scalar result cannot be weighted per sample, nor masked per step.

    Example:
        >>> import torch
        >>> loss = FunctionLoss(lambda y_pred, y_true: (y_pred - y_true).abs())
        >>> y_pred, y_true = torch.tensor([1.0, 4.0]), torch.tensor([0.0, 0.0])
        >>> loss(y_pred, y_true, sample_weight=torch.tensor([1.0, 0.5])).item()
        1.5
    """

    def __init__(self, function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.function = function
        self.name = getattr(function, "__name__", type(function).__name__)
        known = _FUNCTION_KINDS.get(function, ("regression", False, "any"))
        self.kind = getattr(function, "kind", known[0])
        self.from_logits = bool(getattr(function, "from_logits", known[1]))
        self.targets = getattr(function, "targets", known[2])

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self.function(y_pred, y_true)

    def forward(
        self,
        y_pred: torch.Tensor,
        y_true: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        values = self.function(y_pred, y_true)
        if values.ndim == 0:
            if sample_weight is not None or mask is not None:
                what = "the output mask" if mask is not None else "sample_weight/class_weight"
                raise ConfigError(
                    f"the loss {self.name!r} returns a scalar, so {what} cannot be applied. "
                    f"Fix: return one loss per sample (shape (N,)), or per step (N, steps)."
                )
            return values
        if mask is not None:
            return masked_mean(values, mask, sample_weight)
        per_sample = _per_sample_mean(values)
        if sample_weight is None:
            return per_sample.mean()
        return _weighted_mean(per_sample, sample_weight)
