"""The :class:`Loss` base class, the ``LOSSES`` registry and the reduction helpers every loss uses.

Every loss is called ``loss(y_pred, y_true, sample_weight=None)`` and returns a scalar reduced the
Keras way ("sum over batch size"): each sample's loss is the mean over its non-batch elements, is
multiplied by its ``sample_weight``, and the sum is divided by the batch size ``N``.
"""

from __future__ import annotations

import torch
from torch import nn

from ember.errors import ShapeError
from ember.registry import Registry

LOSSES = Registry("loss")

# Keras clips probabilities to [EPSILON, 1 - EPSILON] before taking logarithms.
EPSILON = 1e-7


# -- helpers --------------------------------------------------------------------------------------
def _per_sample_mean(values: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N,): the mean over every non-batch element."""
    return values.reshape(values.shape[0], -1).mean(1)


def _weighted_mean(per_sample: torch.Tensor, sample_weight: torch.Tensor) -> torch.Tensor:
    """Keras "sum over batch size": ``sum(loss_i * w_i) / N``."""
    count = per_sample.shape[0]
    if sample_weight.numel() != count:
        raise ShapeError(
            f"expected one sample_weight per sample ({count}), received sample_weight of shape "
            f"{tuple(sample_weight.shape)}. Fix: pass a 1-D weight tensor of length {count}."
        )
    weights = sample_weight.reshape(count).to(per_sample.dtype)
    return (per_sample * weights).sum() / count


def _like(y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Give ``y_true`` the shape of ``y_pred`` and both one float dtype.

    A (N,) target against (N, 1) outputs would otherwise broadcast to (N, N): a silent bug.
    """
    if y_true.shape != y_pred.shape:
        if y_true.numel() != y_pred.numel():
            raise ShapeError(
                f"expected targets with the shape of the outputs {tuple(y_pred.shape)}, received "
                f"targets of shape {tuple(y_true.shape)}. Fix: give the last layer as many units "
                f"as each target has values, or reshape the targets."
            )
        y_true = y_true.reshape(y_pred.shape)
    if y_true.dtype != y_pred.dtype:
        if y_true.is_floating_point():
            dtype = torch.promote_types(y_pred.dtype, y_true.dtype)
            y_pred = y_pred.to(dtype)
        y_true = y_true.to(y_pred.dtype)
    return y_pred, y_true


def _class_indices(y_pred: torch.Tensor, y_true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C) outputs and (N,) or (N, 1) labels -> as they are; (N, T, C) -> (N*T, C) and (N*T,)."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if y_true.dtype != torch.long:
        y_true = y_true.long()
    if y_pred.ndim > 2:  # class axis last, Keras-style; F.cross_entropy wants it at 1
        y_pred, y_true = y_pred.reshape(-1, y_pred.shape[-1]), y_true.reshape(-1)
    return y_pred, y_true


def _signed_labels(y_true: torch.Tensor) -> torch.Tensor:
    """Keras hinge: labels that are all 0 or 1 become -1 or 1 (decided on the device, no sync)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2 * y_true - 1, y_true)


# -- the base class -------------------------------------------------------------------------------
class Loss(nn.Module):
    """Base class: subclasses define ``per_sample`` (N,) and may define a faster ``mean_loss``.

    Example:
        >>> import torch
        >>> class Cubic(Loss):
        ...     def per_sample(self, y_pred, y_true):
        ...         return _per_sample_mean((y_pred - y_true).abs() ** 3)
        >>> Cubic()(torch.tensor([[2.0], [0.0]]), torch.tensor([[0.0], [0.0]])).item()
        4.0
    """

    name = "loss"
    kind = "regression"
    targets = "any"
    from_logits = False

    def forward(
        self,
        y_pred: torch.Tensor,
        y_true: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if sample_weight is None:
            return self.mean_loss(y_pred, y_true)
        return _weighted_mean(self.per_sample(y_pred, y_true), sample_weight)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """Each sample's loss, shape (N,)."""
        raise NotImplementedError

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """The unweighted loss (the mean of ``per_sample``); subclasses fuse it where they can."""
        return self.per_sample(y_pred, y_true).mean()

    def extra_repr(self) -> str:
        return f"from_logits={self.from_logits}" if self.kind != "regression" else ""
