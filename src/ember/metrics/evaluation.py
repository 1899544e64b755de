"""Computing metric values from what :class:`~ember.metrics.MetricSet` accumulated, with
``torchmetrics.functional``, plus the tensor helpers its updates use."""

from __future__ import annotations

import torch
import torchmetrics.functional as TMF
import torchmetrics.functional.classification as TMC

from ember.errors import DataError
from ember.metrics.specs import MetricSpec


def _label_metric(
    spec: MetricSpec,
    predictions: torch.Tensor,
    targets: torch.Tensor,
    *,
    kind: str,
    num_outputs: int,
) -> torch.Tensor:
    """precision/recall/f1/specificity/confusion_matrix from predicted and true class labels."""
    name = "f1_score" if spec.metric == "f1" else spec.metric
    predictions, targets = predictions.long(), targets.long()
    if kind == "binary" and spec.average is None:
        return getattr(TMC, f"binary_{name}")(predictions, targets)
    classes = 2 if kind == "binary" else num_outputs
    function = getattr(TMC, f"multiclass_{name}")
    if name == "confusion_matrix":
        return function(predictions, targets, num_classes=classes)
    average = {"per_class": "none", None: "macro"}.get(spec.average, spec.average)
    return function(predictions, targets, num_classes=classes, average=average)


def _score_metric(
    metric: str, scores: torch.Tensor, targets: torch.Tensor, *, kind: str, num_outputs: int
) -> torch.Tensor:
    """auc/average_precision from scores (probabilities) and true class labels."""
    name = "auroc" if metric == "auc" else metric
    if kind == "binary":
        return getattr(TMC, f"binary_{name}")(scores.float(), targets.long())
    function = getattr(TMC, f"multiclass_{name}")
    return function(scores.float(), targets, num_classes=num_outputs, average="macro")


def _value_metric(metric: str, values: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    values, targets = values.float(), targets.float()
    if metric == "mse":
        return TMF.mean_squared_error(values, targets)
    if metric == "mae":
        return TMF.mean_absolute_error(values, targets)
    # r2 per output column, averaged uniformly (scikit-learn's default).
    columns = values.reshape(values.shape[0], -1)
    if columns.shape[1] == 1:
        columns = columns.reshape(-1)
    return TMF.r2_score(columns, targets.reshape(columns.shape))


def _shaped_like(y: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    if y.shape == outputs.shape:
        return y
    if y.numel() != outputs.numel():
        raise DataError(
            f"expected targets with one value per output {tuple(outputs.shape)}, received targets "
            f"of shape {tuple(y.shape)}. Fix: match the last layer's units to the targets."
        )
    return y.reshape(outputs.shape)


def _row_mask(mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """An output mask ``(N, steps)`` as one flag per row of ``target``: per step, or per value
    where ``target`` is flat with several binary outputs per step."""
    kept = mask.reshape(-1)
    if target.numel() % max(kept.numel(), 1):
        raise DataError(
            f"expected outputs whose first axes are the output mask's {tuple(mask.shape)}, "
            f"received labels of shape {tuple(target.shape)}. Fix: give the model one output "
            f"per step, (N, steps, units), and labels of shape (N, steps)."
        )
    if target.ndim == 1 and target.numel() != kept.numel():
        kept = kept.repeat_interleave(target.numel() // kept.numel())
    return kept


def _rows(values: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """``values`` as one row per flag of ``kept`` (per step), ready to be selected by it."""
    return values.reshape(kept.numel(), -1)


def _concatenated(stored: list[torch.Tensor]) -> torch.Tensor | None:
    """Concatenate in place of the pieces (so the next compute is cheap), leaving them usable."""
    if not stored:
        return None
    if len(stored) > 1:
        stored[:] = [torch.cat(stored)]
    return stored[0]
