"""The :class:`Loss` base class, the ``LOSSES`` registry and the reduction helpers every loss uses.

Every loss is called ``loss(y_pred, y_true, sample_weight=None)`` and returns a scalar reduced the
Keras way ("sum over batch size"): each sample's loss is the mean over its non-batch elements, is
multiplied by its ``sample_weight``, and the sum is divided by the batch size ``N``. Given a
``mask`` (a sequence model's output mask, ``(N, steps)``), each step's loss is weighted by it
instead, as Keras weights it (:func:`masked_mean`).
"""

from __future__ import annotations

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
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


def step_weights(sample_weight: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sample_weight`` as one weight per step of ``mask`` (N, steps): Keras' temporal weights
    ``(N, steps)`` as they are, one weight per sample ``(N,)`` repeated over its steps.

    Example:
        >>> step_weights(torch.tensor([1.0, 2.0]), torch.ones(2, 3, dtype=torch.bool)).tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    count = mask.shape[0]
    if sample_weight.numel() == mask.numel():
        return sample_weight.reshape(mask.shape)
    if sample_weight.numel() == count:
        # Keras 3 fails here (a (N,) weight does not broadcast against (N, steps)); a sample's
        # weight applies to each of its steps.
        return sample_weight.reshape(count, *([1] * (mask.ndim - 1))).expand(mask.shape)
    raise ShapeError(
        f"expected one sample_weight per sample ({count}) or per step {tuple(mask.shape)} of "
        f"the masked outputs, received sample_weight of shape {tuple(sample_weight.shape)}. "
        f"Fix: pass weights of shape ({count},) or {tuple(mask.shape)}."
    )


def masked_mean(
    values: torch.Tensor, mask: torch.Tensor, sample_weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Keras' "sum over batch size" of unreduced losses under a mask: each step's loss (the mean
    of ``values`` over the axes after the mask's) times its weight, summed and divided by the
    number of real steps in the batch; 0 when there is none (Keras' ``divide_no_nan``).

    The arithmetic is Keras' (``keras.losses.loss.apply_mask``): real steps weigh
    ``total / valid``, padded ones 0, and the weighted sum is divided by ``total``.

    Example:
        >>> values = torch.tensor([[1.0, 3.0, 9.0], [2.0, 9.0, 9.0]])
        >>> mask = torch.tensor([[True, True, False], [True, False, False]])
        >>> masked_mean(values, mask).item()  # (1 + 3 + 2) / 3 real steps
        2.0
    """
    if values.numel() % mask.numel() or values.shape[: mask.ndim] != mask.shape:
        raise ShapeError(
            f"expected losses whose first axes are the output mask's {tuple(mask.shape)}, "
            f"received losses of shape {tuple(values.shape)}. Fix: return one loss per step "
            f"(batch and step axes first) from the loss's values()."
        )
    per_step = values.reshape(*mask.shape, -1).mean(-1)  # (N, steps)
    total = float(mask.numel())
    valid = mask.sum(dtype=per_step.dtype)
    # divide_no_nan: a batch without real steps weighs every step 0
    mask_weight = torch.where(valid > 0, total / valid.clamp(min=1), 0.0)
    weights = torch.where(mask, mask_weight, 0.0).to(per_step.dtype)
    if sample_weight is not None:
        weights = weights * step_weights(sample_weight, mask).to(per_step.dtype)
    return (per_step * weights).sum() / total


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
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if mask is not None:
            return masked_mean(self.values(y_pred, y_true), mask, sample_weight)
        if sample_weight is None:
            return self.mean_loss(y_pred, y_true)
        return _weighted_mean(self.per_sample(y_pred, y_true), sample_weight)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """Each sample's loss, shape (N,)."""
        raise NotImplementedError

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """The unreduced losses, batch and step axes first (Keras' ``Loss.call``): what a
        ``mask`` weighs step by step. A loss defining only ``per_sample`` cannot be masked."""
        raise ConfigError(
            f"the loss {self.name!r} gives one value per sample, so the model's output mask "
            f"cannot weight its steps. Fix: define values(y_pred, y_true) returning the "
            f"unreduced losses (batch and step axes first), or drop the mask (mask_zero=False)."
        )

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        """The unweighted loss (the mean of ``per_sample``); subclasses fuse it where they can."""
        return self.per_sample(y_pred, y_true).mean()

    def extra_repr(self) -> str:
        return f"from_logits={self.from_logits}" if self.kind != "regression" else ""
