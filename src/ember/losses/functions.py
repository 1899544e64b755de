"""The Keras losses by name: regression, binary and multiclass, registered in ``LOSSES``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ember import checks
from ember.losses.base import (
    EPSILON,
    LOSSES,
    Loss,
    _class_indices,
    _like,
    _per_sample_mean,
    _signed_labels,
)


# -- regression -----------------------------------------------------------------------------------
class _ElementwiseError(Loss):
    """Mean of ``error(y_pred - y_true)`` per element; ``torch_loss`` computes the batch mean."""

    error = staticmethod(torch.square)  # applied to each difference
    torch_loss = staticmethod(F.mse_loss)  # the same mean over the batch, fused

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self.values(y_pred, y_true))

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return self.error(y_pred - y_true)

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self.torch_loss(*_like(y_pred, y_true))


@LOSSES.register("mse", "mean_squared_error")
class MeanSquaredError(_ElementwiseError):
    """Mean of squared errors.

    Example:
        >>> import torch
        >>> MeanSquaredError()(torch.tensor([[1.0], [3.0]]), torch.tensor([1.0, 1.0])).item()
        2.0
    """

    name = "mean_squared_error"


@LOSSES.register("mae", "mean_absolute_error")
class MeanAbsoluteError(_ElementwiseError):
    """Mean of absolute errors.

    Example:
        >>> import torch
        >>> MeanAbsoluteError()(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])).item()
        1.0
    """

    name = "mean_absolute_error"
    error = staticmethod(torch.abs)
    torch_loss = staticmethod(F.l1_loss)


@LOSSES.register("huber", "huber_loss")
class Huber(Loss):
    """Squared error below ``delta``, linear above: ``0.5 x^2`` or ``delta * (|x| - delta / 2)``.

    Example:
        >>> import torch
        >>> Huber(delta=1.0)(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])).item()
        1.3125
    """

    name = "huber"

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        self.delta = checks.positive_number("delta", delta)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self.values(y_pred, y_true))

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return F.huber_loss(y_pred, y_true, reduction="none", delta=self.delta)

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return F.huber_loss(*_like(y_pred, y_true), delta=self.delta)

    def extra_repr(self) -> str:
        return f"delta={self.delta}"


@LOSSES.register("kl_divergence", "kld", "kullback_leibler_divergence")
class KLDivergence(Loss):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` over the last axis.

    Both are clipped to ``[1e-7, 1]`` first, as in Keras.

    Example:
        >>> import torch
        >>> p, q = torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]])
        >>> round(KLDivergence()(q, p).item(), 4)
        0.1438
    """

    name = "kl_divergence"

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        divergence = self.values(y_pred, y_true)
        return _per_sample_mean(divergence) if divergence.ndim > 1 else divergence

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        y_true, y_pred = y_true.clamp(EPSILON, 1.0), y_pred.clamp(EPSILON, 1.0)
        return (y_true * torch.log(y_true / y_pred)).sum(-1)  # (N, ...) without the last axis


# -- what binary and categorical cross-entropy share ---------------------------------------------
class _SmoothedCrossentropy(Loss):
    """What binary and categorical cross-entropy share: ``from_logits``, ``label_smoothing``, and
    per-sample and mean losses from one ``_values(y_pred, y_true, reduction)``."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = checks.number_in(
            "label_smoothing", label_smoothing, 0, 1, closed="[]"
        )
        self.from_logits = bool(from_logits)

    def _values(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str) -> torch.Tensor:
        """The unreduced losses (``reduction="none"``) or their mean (``"mean"``)."""
        raise NotImplementedError

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._values(y_pred, y_true, "none").reshape(y_pred.shape[0], -1))

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self._values(y_pred, y_true, "mean")

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        unreduced = self._values(y_pred, y_true, "none")
        # Categorical rows (N * steps,) go back to (N, steps); binary values keep y_pred's shape.
        return unreduced if unreduced.shape == y_pred.shape else unreduced.view(y_pred.shape[:-1])

    def extra_repr(self) -> str:
        return f"from_logits={self.from_logits}, label_smoothing={self.label_smoothing}"


# -- binary ---------------------------------------------------------------------------------------
@LOSSES.register("binary_crossentropy", "bce")
class BinaryCrossentropy(_SmoothedCrossentropy):
    """Binary cross-entropy for targets in [0, 1] (one or several independent labels per sample).

    Args:
        from_logits: ``y_pred`` are logits (stable, fused) rather than probabilities.
        label_smoothing: targets become ``y * (1 - s) + 0.5 * s``.

    Example:
        >>> import torch
        >>> loss = BinaryCrossentropy(from_logits=True)
        >>> round(loss(torch.tensor([[0.0], [2.0]]), torch.tensor([0, 1])).item(), 4)
        0.41
    """

    name = "binary_crossentropy"
    kind = "binary"

    def _values(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
        return values.mean() if reduction == "mean" else values


def _hinge_margins(y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """``max(1 - y_true * y_pred, 0)`` with 0/1 labels mapped to -1/1: shared by the hinge losses."""
    y_pred, y_true = _like(y_pred, y_true)
    return torch.relu(1.0 - _signed_labels(y_true) * y_pred)


@LOSSES.register("hinge")
class Hinge(Loss):
    """Hinge loss ``max(1 - y_true * y_pred, 0)`` on raw scores; 0/1 labels become -1/1.

    Hinge losses take scores, not probabilities, so ``from_logits`` is True: a score's decision
    threshold is 0.

    Example:
        >>> import torch
        >>> Hinge()(torch.tensor([0.5, -2.0]), torch.tensor([1, 0])).item()
        0.25
    """

    name = "hinge"
    kind = "binary"
    from_logits = True

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(_hinge_margins(y_pred, y_true))

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _hinge_margins(y_pred, y_true)


@LOSSES.register("squared_hinge")
class SquaredHinge(Loss):
    """Squared hinge loss ``max(1 - y_true * y_pred, 0) ** 2``; 0/1 labels become -1/1.

    Like :class:`Hinge`, it takes raw scores (``from_logits`` is True).

    Example:
        >>> import torch
        >>> SquaredHinge()(torch.tensor([0.5, -2.0]), torch.tensor([1, 0])).item()
        0.125
    """

    name = "squared_hinge"
    kind = "binary"
    from_logits = True

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(_hinge_margins(y_pred, y_true).square())

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _hinge_margins(y_pred, y_true).square()


# -- multiclass -----------------------------------------------------------------------------------
@LOSSES.register("categorical_crossentropy", "cce")
class CategoricalCrossentropy(_SmoothedCrossentropy):
    """Cross-entropy against one-hot or probability targets of shape (N, C) (class axis last).

    Args:
        from_logits: ``y_pred`` are logits (uses ``F.cross_entropy``) rather than probabilities.
        label_smoothing: targets become ``y * (1 - s) + s / C``.

    From probabilities, each row is first divided by its sum and clipped, as in Keras.

    Example:
        >>> import torch
        >>> loss = CategoricalCrossentropy()
        >>> round(loss(torch.tensor([[0.9, 0.1]]), torch.tensor([[1.0, 0.0]])).item(), 4)
        0.1054
    """

    name = "categorical_crossentropy"
    kind = "multiclass"
    targets = "onehot"

    def _values(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        classes = y_pred.shape[-1]
        rows_pred, rows_true = y_pred.reshape(-1, classes), y_true.reshape(-1, classes)
        if self.from_logits:
            return F.cross_entropy(
                rows_pred, rows_true, reduction=reduction, label_smoothing=self.label_smoothing
            )
        if self.label_smoothing:
            rows_true = rows_true * (1.0 - self.label_smoothing) + self.label_smoothing / classes
        p = (rows_pred / rows_pred.sum(-1, keepdim=True)).clamp(EPSILON, 1.0 - EPSILON)
        values = -(rows_true * torch.log(p)).sum(-1)
        return values.mean() if reduction == "mean" else values


@LOSSES.register("sparse_categorical_crossentropy", "scce")
class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy against integer class labels of shape (N,) or (N, 1); outputs (N, C).

    Sequence outputs (N, T, C) with labels (N, T) work too (class axis last).

    Example:
        >>> import torch
        >>> loss = SparseCategoricalCrossentropy(from_logits=True)
        >>> round(loss(torch.tensor([[2.0, 0.0]]), torch.tensor([0])).item(), 4)
        0.1269
    """

    name = "sparse_categorical_crossentropy"
    kind = "multiclass"
    targets = "sparse"

    def __init__(self, from_logits: bool = False) -> None:
        super().__init__()
        self.from_logits = bool(from_logits)

    def _rows(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str) -> torch.Tensor:
        y_pred, y_true = _class_indices(y_pred, y_true)
        if self.from_logits:
            return F.cross_entropy(y_pred, y_true, reduction=reduction)
        log_p = torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))
        return F.nll_loss(log_p, y_true, reduction=reduction)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._rows(y_pred, y_true, "none").reshape(y_pred.shape[0], -1))

    def values(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self._rows(y_pred, y_true, "none").view(y_pred.shape[:-1])  # (N, steps)

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        if (
            self.from_logits
            and y_pred.ndim == 2
            and y_true.ndim == 1
            and y_true.dtype == torch.long
        ):
            return F.cross_entropy(y_pred, y_true)  # the hot path: one fused call
        return self._rows(y_pred, y_true, "mean")
