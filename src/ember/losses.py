"""Losses by Keras name, as ``torch.nn`` modules with PyTorch argument order.

Every loss is called ``loss(y_pred, y_true, sample_weight=None)`` and returns a scalar reduced the
Keras way ("sum over batch size"): each sample's loss is the mean over its non-batch elements, is
multiplied by its ``sample_weight``, and the sum is divided by the batch size ``N``.

Each loss also says what it is for, so that the engine can pick metrics and check labels:
``kind`` ("multiclass", "binary" or "regression"), ``targets`` ("sparse", "onehot" or "any") and
``from_logits``.

Example:
    >>> import torch
    >>> from ember import losses
    >>> loss = losses.get("sparse_categorical_crossentropy")
    >>> probabilities = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    >>> round(loss(probabilities, torch.tensor([0, 1])).item(), 4)
    0.1643
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember.errors import ConfigError, DataError, ShapeError
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


# -- regression -----------------------------------------------------------------------------------
@LOSSES.register("mse", "mean_squared_error")
class MeanSquaredError(Loss):
    """Mean of squared errors.

    Example:
        >>> import torch
        >>> MeanSquaredError()(torch.tensor([[1.0], [3.0]]), torch.tensor([1.0, 1.0])).item()
        2.0
    """

    name = "mean_squared_error"

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return _per_sample_mean((y_pred - y_true).square())

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(*_like(y_pred, y_true))


@LOSSES.register("mae", "mean_absolute_error")
class MeanAbsoluteError(Loss):
    """Mean of absolute errors.

    Example:
        >>> import torch
        >>> MeanAbsoluteError()(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])).item()
        1.0
    """

    name = "mean_absolute_error"

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return _per_sample_mean((y_pred - y_true).abs())

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(*_like(y_pred, y_true))


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
        if not delta > 0:
            raise ConfigError(f"expected a positive number, received delta={delta!r}")
        self.delta = float(delta)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return _per_sample_mean(F.huber_loss(y_pred, y_true, reduction="none", delta=self.delta))

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
        y_pred, y_true = _like(y_pred, y_true)
        y_true, y_pred = y_true.clamp(EPSILON, 1.0), y_pred.clamp(EPSILON, 1.0)
        divergence = (y_true * torch.log(y_true / y_pred)).sum(-1)  # (N, ...) without the last axis
        return _per_sample_mean(divergence) if divergence.ndim > 1 else divergence


# -- binary ---------------------------------------------------------------------------------------
@LOSSES.register("binary_crossentropy", "bce")
class BinaryCrossentropy(Loss):
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

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0 <= label_smoothing <= 1:
            raise ConfigError(
                f"expected a number in [0, 1], received label_smoothing={label_smoothing!r}"
            )
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def _elementwise(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str):
        y_pred, y_true = _like(y_pred, y_true)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
        p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
        return values.mean() if reduction == "mean" else values

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._elementwise(y_pred, y_true, "none"))

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self._elementwise(y_pred, y_true, "mean")

    def extra_repr(self) -> str:
        return f"from_logits={self.from_logits}, label_smoothing={self.label_smoothing}"


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

    def _margins(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = _like(y_pred, y_true)
        return torch.relu(1.0 - _signed_labels(y_true) * y_pred)

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._margins(y_pred, y_true))


@LOSSES.register("squared_hinge")
class SquaredHinge(Hinge):
    """Squared hinge loss ``max(1 - y_true * y_pred, 0) ** 2``; 0/1 labels become -1/1.

    Example:
        >>> import torch
        >>> SquaredHinge()(torch.tensor([0.5, -2.0]), torch.tensor([1, 0])).item()
        0.125
    """

    name = "squared_hinge"

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._margins(y_pred, y_true).square())


# -- multiclass -----------------------------------------------------------------------------------
@LOSSES.register("categorical_crossentropy", "cce")
class CategoricalCrossentropy(Loss):
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

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0 <= label_smoothing <= 1:
            raise ConfigError(
                f"expected a number in [0, 1], received label_smoothing={label_smoothing!r}"
            )
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def _rows(self, y_pred: torch.Tensor, y_true: torch.Tensor, reduction: str) -> torch.Tensor:
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

    def per_sample(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return _per_sample_mean(self._rows(y_pred, y_true, "none").reshape(y_pred.shape[0], -1))

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self._rows(y_pred, y_true, "mean")

    def extra_repr(self) -> str:
        return f"from_logits={self.from_logits}, label_smoothing={self.label_smoothing}"


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

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        if (
            self.from_logits
            and y_pred.ndim == 2
            and y_true.ndim == 1
            and y_true.dtype == torch.long
        ):
            return F.cross_entropy(y_pred, y_true)  # the hot path: one fused call
        return self._rows(y_pred, y_true, "mean")


# -- wrappers for torch losses and plain functions ------------------------------------------------
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
        values = self._per_element_loss()(*self._prepare(y_pred, y_true))
        return _per_sample_mean(values.reshape(y_pred.shape[0], -1))

    def mean_loss(self, y_pred: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
        return self.loss(*self._prepare(y_pred, y_true))

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, from_logits={self.from_logits}"


class FunctionLoss(Loss):
    """A plain function ``fn(y_pred, y_true)`` returning per-sample losses (N, ...) or a scalar.

    ``kind`` and ``from_logits`` are read from attributes of the function if it has them
    (default: a regression loss; ``F.cross_entropy`` and the other torch cross-entropies are
    known). A scalar result cannot be weighted per sample.

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

    def forward(
        self,
        y_pred: torch.Tensor,
        y_true: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        values = self.function(y_pred, y_true)
        if values.ndim == 0:
            if sample_weight is not None:
                raise ConfigError(
                    f"the loss {self.name!r} returns a scalar, so sample_weight/class_weight "
                    f"cannot be applied. Fix: return one loss per sample (shape (N,))."
                )
            return values
        per_sample = _per_sample_mean(values)
        if sample_weight is None:
            return per_sample.mean()
        return _weighted_mean(per_sample, sample_weight)


# -- lookup ---------------------------------------------------------------------------------------
def get(spec: Any) -> Loss:
    """Return a loss module for a Keras name, a loss instance or class, a torch loss, or a function.

    Example:
        >>> import torch
        >>> get("mse")
        MeanSquaredError()
        >>> get(torch.nn.BCEWithLogitsLoss()).kind
        'binary'
    """
    if isinstance(spec, str):
        return LOSSES.get(spec)()
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return get(spec())
    if isinstance(spec, nn.Module) and isinstance(getattr(spec, "reduction", None), str):
        return TorchLoss(spec)
    if callable(spec):
        return FunctionLoss(spec)
    raise ConfigError(
        f"expected a loss name, a loss module or a function (y_pred, y_true), received {spec!r} "
        f"of type {type(spec).__name__}. Known losses: {', '.join(LOSSES.names())}."
    )


def with_logits(loss: Loss) -> Loss:
    """The same loss computed from logits (keeps ``label_smoothing``); ``loss`` itself if it already
    takes logits or has no probability form (regression, hinge).

    Example:
        >>> with_logits(CategoricalCrossentropy(label_smoothing=0.1))
        CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    """
    if loss.from_logits or loss.kind == "regression":
        return loss
    if isinstance(loss, (BinaryCrossentropy, CategoricalCrossentropy)):
        return type(loss)(from_logits=True, label_smoothing=loss.label_smoothing)
    if isinstance(loss, SparseCategoricalCrossentropy):
        return SparseCategoricalCrossentropy(from_logits=True)
    if isinstance(loss, TorchLoss) and type(loss.loss) is nn.BCELoss and loss.loss.weight is None:
        return TorchLoss(nn.BCEWithLogitsLoss(reduction=loss.loss.reduction))
    raise ConfigError(
        f"the loss {loss.name!r} has no form that takes logits. Fix: keep the model's final "
        f"activation, or use an ember loss with from_logits=True."
    )


def logits_version(loss: Loss, activation_name: str | None) -> Loss | None:
    """The fused, stable loss to use on logits when the model ends in ``activation_name``, or None.

    Softmax + (sparse) categorical cross-entropy and sigmoid + binary cross-entropy can skip the
    final activation and compute the loss from logits.

    Example:
        >>> logits_version(SparseCategoricalCrossentropy(), "softmax")
        SparseCategoricalCrossentropy(from_logits=True)
        >>> logits_version(MeanSquaredError(), "softmax") is None
        True
    """
    if activation_name is None or loss.from_logits:
        return None
    activation = activation_name.lower()
    multiclass = isinstance(loss, (CategoricalCrossentropy, SparseCategoricalCrossentropy))
    binary = isinstance(loss, BinaryCrossentropy) or (
        isinstance(loss, TorchLoss) and type(loss.loss) is nn.BCELoss and loss.loss.weight is None
    )
    if (activation == "softmax" and multiclass) or (activation == "sigmoid" and binary):
        return with_logits(loss)
    return None


# -- label checks, once before training -----------------------------------------------------------
def _range(y: torch.Tensor) -> tuple[float, float]:
    low, high = torch.aminmax(y.detach().reshape(-1).double())
    return float(low), float(high)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def validate_targets(loss: Loss, y: torch.Tensor, num_outputs: int) -> None:
    """Check labels ``y`` against ``loss`` and a model with ``num_outputs`` outputs (last axis).

    Raises :class:`~ember.errors.DataError` saying what was received, what was expected and the fix.
    Reads the device once; call it before training, not per step.

    Example:
        >>> import torch
        >>> validate_targets(SparseCategoricalCrossentropy(), torch.tensor([0, 11]), 10)
        Traceback (most recent call last):
        ...
        ember.errors.DataError: sparse_categorical_crossentropy expects integer class labels ...
    """
    name = loss.name
    if y.numel() == 0:
        raise DataError(f"{name} received an empty label tensor. Fix: pass some labels.")
    if y.is_floating_point() and not bool(torch.isfinite(y).all()):
        raise DataError(f"{name} received labels containing NaN or inf. Fix: clean the labels.")
    if y.dtype == torch.bool:
        y = y.long()
    if isinstance(loss, FunctionLoss) or (
        isinstance(loss, TorchLoss) and loss.kind == "regression"
    ):
        return  # what a user's loss expects is not known here; it fails on its own terms
    low, high = _range(y)
    span = f"from {_number(low)} to {_number(high)}"
    if loss.kind == "multiclass":
        onehot = y.is_floating_point() and y.ndim >= 2 and y.shape[-1] == num_outputs > 1
        if loss.targets == "sparse" or (loss.targets == "any" and not onehot):
            _check_sparse(name, y, num_outputs, low, high, span, onehot)
        elif loss.targets == "onehot":
            _check_onehot(name, y, num_outputs, low, high, span)
    elif loss.kind == "binary":
        if isinstance(loss, Hinge):
            if low < -1 or high > 1:
                raise DataError(
                    f"{name} expects labels -1/1 (or 0/1), received labels {span}. "
                    f"Fix: map the two classes to -1 and 1."
                )
        elif low < 0 or high > 1:
            hint = (
                "if these are class indices, use sparse_categorical_crossentropy with one "
                "output per class"
                if high > 1 and float(high).is_integer()
                else "map the labels to 0/1 (e.g. (y + 1) / 2 for -1/1 labels)"
            )
            raise DataError(
                f"{name} expects targets in [0, 1], received targets {span}. Fix: {hint}."
            )
        _check_columns(name, y, num_outputs)
    else:
        _check_columns(name, y, num_outputs)


def _check_sparse(name, y, num_outputs, low, high, span, onehot) -> None:
    if onehot:
        raise DataError(
            f"{name} expects integer class labels of shape (N,), received one-hot labels of shape "
            f"{tuple(y.shape)}: use categorical_crossentropy, or convert with y.argmax(-1)."
        )
    if y.is_floating_point() and not bool((y == y.round()).all()):
        raise DataError(
            f"{name} expects integer class labels in [0, {num_outputs}), received float labels "
            f"{span} with fractional values. Fix: pass class indices (e.g. y.long()); for "
            f"probabilities use binary_crossentropy or categorical_crossentropy."
        )
    if low < 0 or high >= num_outputs:
        if num_outputs == 1:
            fix = "use binary_crossentropy with a sigmoid output, or give the last layer one unit "
            fix += f"per class ({int(high) + 1})"
        else:
            fix = f"give the last layer {int(high) + 1} units, or remap the labels to "
            fix += f"0..{num_outputs - 1}"
        raise DataError(
            f"{name} expects integer class labels in [0, {num_outputs}) (one per output unit), "
            f"received labels {span}. Fix: {fix}."
        )


def _check_onehot(name, y, num_outputs, low, high, span) -> None:
    if not y.is_floating_point() or y.ndim == 1 or (y.shape[-1] == 1 and num_outputs > 1):
        raise DataError(
            f"{name} expects one-hot labels of shape (N, {num_outputs}), received integer class "
            f"labels of shape {tuple(y.shape)}: use sparse_categorical_crossentropy, or one-hot "
            f"encode with torch.nn.functional.one_hot(y, {num_outputs}).float()."
        )
    if y.shape[-1] != num_outputs:
        raise DataError(
            f"{name} expects labels with one column per output ({num_outputs}), received labels "
            f"of shape {tuple(y.shape)}. Fix: give the last layer {y.shape[-1]} units, or encode "
            f"the labels with {num_outputs} classes."
        )
    if low < 0 or high > 1:
        raise DataError(
            f"{name} expects one-hot or probability rows in [0, 1], received values {span}. "
            f"Fix: pass one-hot labels, or class indices with sparse_categorical_crossentropy."
        )


def _check_columns(name: str, y: torch.Tensor, num_outputs: int) -> None:
    columns = 1 if y.ndim == 1 else y.shape[-1]
    if columns != num_outputs:
        raise DataError(
            f"{name} expects {num_outputs} target value(s) per sample (one per output), received "
            f"targets of shape {tuple(y.shape)}. Fix: give the last layer {columns} units, or "
            f"reshape the targets."
        )
