"""Metrics by Keras name, accumulated on the device and computed once with torchmetrics.

A torchmetrics ``update`` costs tens of microseconds, a sizeable share of a small training step, so
:class:`MetricSet` never calls torchmetrics per batch. ``update`` only keeps cheap detached tensors
on the device (a running count of correct predictions for accuracy; predicted labels, scores or
values for the rest), and ``compute`` concatenates them once and evaluates every metric with
``torchmetrics.functional``. No host sync happens before ``compute``.

Example:
    >>> import torch
    >>> from ember.metrics import MetricSet
    >>> metrics = MetricSet(["accuracy", "f1"], kind="multiclass", num_outputs=3, from_logits=True)
    >>> metrics.update(torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), torch.tensor([0, 2]))
    >>> metrics.compute()["accuracy"]
    0.5
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torchmetrics
import torchmetrics.functional as TMF
import torchmetrics.functional.classification as TMC

from ember.errors import ConfigError, DataError
from ember.registry import Registry

METRICS = Registry("metric")

# What each metric keeps per batch: a running count, predicted labels, scores, or values.
_COUNTED = {"accuracy", "top_k_accuracy"}
_LABEL_METRICS = {"precision", "recall", "f1", "specificity", "confusion_matrix"}
_SCORE_METRICS = {"auc", "average_precision"}
_VALUE_METRICS = {"mse", "mae", "r2"}
_AVERAGED = {"precision", "recall", "f1", "specificity"}


class MetricSpec:
    """One metric by name, with how it averages over classes; what ``METRICS`` returns.

    Args:
        metric: ``"accuracy"``, ``"precision"``, ``"f1"``, ``"auc"``, ``"mse"`` ...
        average: ``"macro"``, ``"micro"`` or ``"per_class"`` for precision/recall/f1/specificity;
            None means macro for multiclass and the positive class for binary outputs.

    Example:
        >>> MetricSpec("f1", average="per_class").log_name
        'f1_per_class'
    """

    def __init__(self, metric: str, average: str | None = None) -> None:
        if average is not None and (metric not in _AVERAGED or average not in _AVERAGES):
            raise ConfigError(
                f"expected average in {sorted(_AVERAGES)} for one of {sorted(_AVERAGED)}, "
                f"received metric={metric!r}, average={average!r}"
            )
        self.metric = metric
        self.average = average

    @property
    def log_name(self) -> str:
        """The name under which the metric is logged (per-class metrics log ``NAME_class_I``)."""
        return self.metric if self.average is None else f"{self.metric}_{self.average}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.metric!r}, average={self.average!r})"


_AVERAGES = {"macro", "micro", "per_class"}


class TopKAccuracy(MetricSpec):
    """How often the true class is among the ``k`` highest outputs (multiclass only).

    Example:
        >>> TopKAccuracy(3).log_name
        'top_3_accuracy'
    """

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"expected a positive integer, received k={k!r}")
        super().__init__("top_k_accuracy")
        self.k = k

    @property
    def log_name(self) -> str:
        return f"top_{self.k}_accuracy"

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


def _register(names: Sequence[str], metric: str, average: str | None = None) -> None:
    for name in names:
        METRICS.add(name, lambda metric=metric, average=average: MetricSpec(metric, average))


_register(["accuracy", "acc", "binary_accuracy", "categorical_accuracy"], "accuracy")
METRICS.add("sparse_categorical_accuracy", lambda: MetricSpec("accuracy"))
for _k_name in ["top_5_accuracy", "top_k_accuracy", "top5", "top_k_categorical_accuracy"]:
    METRICS.add(_k_name, TopKAccuracy)
METRICS.add("sparse_top_k_categorical_accuracy", TopKAccuracy)
for _metric, _aliases in {
    "precision": [],
    "recall": [],
    "f1": ["f1_score"],
    "specificity": [],
}.items():
    _register([_metric, *_aliases], _metric)
    for _average in sorted(_AVERAGES):
        _register([f"{_metric}_{_average}"], _metric, _average)
_register(["auc", "roc_auc", "auroc"], "auc")
_register(["average_precision", "ap"], "average_precision")
_register(["confusion_matrix"], "confusion_matrix")
_register(["mse", "mean_squared_error"], "mse")
_register(["mae", "mean_absolute_error"], "mae")
_register(["r2", "r2_score"], "r2")


def get(spec: Any) -> Any:
    """Resolve one metric spec without data: a name gives a :class:`MetricSpec`; torchmetrics
    objects, ``MetricSpec`` objects and functions come back as they are. Unknown names raise
    :class:`~ember.errors.UnknownNameError` listing close matches, so ``compile`` can fail early.

    Example:
        >>> get("acc")
        MetricSpec('accuracy', average=None)
    """
    return MetricSet._resolve(spec)[1]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class MetricSet:
    """The metrics of one task, accumulated on the device; read with :meth:`compute`.

    Args:
        specs: metric names (``"accuracy"``, ``"f1_per_class"``, ``"auc"`` ...), ``MetricSpec``
            objects such as ``TopKAccuracy(3)``, torchmetrics ``Metric`` objects (fed once, at
            ``compute``), or functions ``fn(y_pred, y_true) -> scalar`` (averaged over batches,
            weighted by batch size).
        kind: ``"multiclass"``, ``"binary"`` or ``"regression"`` (the loss's ``kind``).
        num_outputs: the model's outputs on the last axis (the number of classes for multiclass).
        from_logits: whether the outputs are logits (softmax/sigmoid is applied for scores, and
            binary outputs are thresholded at 0 instead of 0.5).

    Example:
        >>> import torch
        >>> metrics = MetricSet(["accuracy", "auc"], kind="binary", num_outputs=1,
        ...                     from_logits=False)
        >>> metrics.update(torch.tensor([[0.9], [0.2], [0.6]]), torch.tensor([1, 0, 0]))
        >>> metrics.compute()
        {'accuracy': 0.6666666865348816, 'auc': 1.0}
    """

    def __init__(
        self, specs: Sequence[Any], *, kind: str, num_outputs: int, from_logits: bool
    ) -> None:
        if kind not in ("multiclass", "binary", "regression"):
            raise ConfigError(
                f"expected kind 'multiclass', 'binary' or 'regression', received kind={kind!r}"
            )
        self.kind = kind
        self.num_outputs = int(num_outputs)
        self.from_logits = bool(from_logits)
        self.specs: list[MetricSpec] = []
        self.torchmetrics: dict[str, torchmetrics.Metric] = {}
        self.functions: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {}
        seen: set[str] = set()
        for spec in specs:
            name, entry = self._resolve(spec)
            if name in seen:
                continue
            seen.add(name)
            if isinstance(entry, MetricSpec):
                self._check(entry)
                self.specs.append(entry)
            elif isinstance(entry, torchmetrics.Metric):
                self.torchmetrics[name] = entry
            else:
                self.functions[name] = entry
        wanted = {spec.metric for spec in self.specs}
        self._keep_labels = bool(wanted & _LABEL_METRICS)
        self._keep_scores = bool(wanted & _SCORE_METRICS)
        self._keep_values = bool(wanted & _VALUE_METRICS)
        self._keep_raw = bool(self.torchmetrics)
        self._keep_targets = (
            self._keep_labels or self._keep_scores or self._keep_values or self._keep_raw
        )
        self._top_k = sorted({s.k for s in self.specs if isinstance(s, TopKAccuracy)})
        self._count_accuracy = "accuracy" in wanted
        self.names = self._log_names()
        self.reset()

    # -- set-up -------------------------------------------------------------------------------
    @staticmethod
    def _resolve(spec: Any) -> tuple[str, Any]:
        if isinstance(spec, str):
            spec = METRICS.get(spec)()
        if isinstance(spec, MetricSpec):
            return spec.log_name, spec
        if isinstance(spec, torchmetrics.Metric):
            return _snake_case(type(spec).__name__), spec
        if callable(spec):
            return getattr(spec, "__name__", _snake_case(type(spec).__name__)), spec
        raise ConfigError(
            f"expected a metric name, a torchmetrics Metric or a function (y_pred, y_true), "
            f"received {spec!r} of type {type(spec).__name__}"
        )

    def _check(self, spec: MetricSpec) -> None:
        if self.kind == "regression" and spec.metric not in _VALUE_METRICS:
            raise ConfigError(
                f"the metric {spec.log_name!r} needs classes, but the loss is a regression loss "
                f"(kind='regression'), whose outputs are values. Fix: use a classification loss "
                f"(e.g. sparse_categorical_crossentropy or binary_crossentropy), or regression "
                f"metrics ('mae', 'mse', 'r2')."
            )
        if self.kind == "multiclass" and spec.metric in _VALUE_METRICS:
            raise ConfigError(
                f"the metric {spec.log_name!r} compares values, but the loss is a multiclass "
                f"loss. Fix: use 'accuracy', 'f1', 'auc' ... for classification."
            )
        if isinstance(spec, TopKAccuracy):
            if self.kind != "multiclass":
                raise ConfigError(
                    f"{spec.log_name!r} needs several classes, but the loss is {self.kind}. "
                    f"Fix: use 'accuracy'."
                )
            if spec.k >= self.num_outputs:
                raise ConfigError(
                    f"{spec.log_name!r} needs more than {spec.k} classes, received a model "
                    f"with {self.num_outputs} outputs, so it would always be 1. Fix: use "
                    f"TopKAccuracy(k) with k < {self.num_outputs}."
                )

    def _log_names(self) -> list[str]:
        names = []
        for spec in self.specs:
            if spec.metric == "confusion_matrix":
                continue
            if spec.average == "per_class":
                classes = 2 if self.kind == "binary" else self.num_outputs
                names += [f"{spec.metric}_class_{i}" for i in range(classes)]
            else:
                names.append(spec.log_name)
        return names + list(self.torchmetrics) + list(self.functions)

    def __len__(self) -> int:
        return len(self.names)

    def reset(self) -> None:
        """Forget everything accumulated (called at the start of each epoch)."""
        self._samples = 0
        self._correct: torch.Tensor | None = None
        self._correct_top_k: dict[int, torch.Tensor] = {}
        self._function_sums: dict[str, torch.Tensor] = {}
        self._predictions: list[torch.Tensor] = []
        self._scores: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []
        self._raw: list[torch.Tensor] = []

    def to(self, device: torch.device | str) -> MetricSet:
        """Move what is accumulated (and torchmetrics objects) to ``device``; returns self."""
        for metric in self.torchmetrics.values():
            metric.to(device)
        if self._correct is not None:
            self._correct = self._correct.to(device)
        self._correct_top_k = {k: v.to(device) for k, v in self._correct_top_k.items()}
        self._function_sums = {k: v.to(device) for k, v in self._function_sums.items()}
        for stored in (self._predictions, self._scores, self._targets, self._raw):
            stored[:] = [t.to(device) for t in stored]
        return self

    # -- per batch: cheap, on the device, no host sync ----------------------------------------
    def update(self, outputs: torch.Tensor, y: torch.Tensor) -> None:
        """Accumulate one batch of raw model ``outputs`` (logits if ``from_logits``) and labels."""
        if outputs.requires_grad:
            outputs = outputs.detach()
        if self.kind == "multiclass":
            predictions, target = self._update_multiclass(outputs, y)
        elif self.kind == "binary":
            predictions, target = self._update_binary(outputs, y)
        else:
            predictions, target = outputs, _shaped_like(y, outputs)
        if self._count_accuracy:
            correct = (predictions == target).sum()
            self._correct = correct if self._correct is None else self._correct + correct
        if self._keep_labels:
            self._predictions.append(predictions)
        if self._keep_values and self.kind == "regression":
            self._scores.append(outputs)
        if self._keep_targets:
            self._targets.append(target)
        if self._keep_raw:
            self._raw.append(outputs)
        for name, function in self.functions.items():
            value = function(outputs, y).detach().float() * target.numel()
            total = self._function_sums.get(name)
            self._function_sums[name] = value if total is None else total + value
        self._samples += target.numel()

    def _update_multiclass(self, outputs: torch.Tensor, y: torch.Tensor):
        classes = outputs.shape[-1]
        if y.is_floating_point() and y.shape == outputs.shape and classes > 1:
            target = y.argmax(-1).reshape(-1)  # one-hot or probability targets
        else:
            target = y if y.ndim == 1 else y.reshape(-1)
            if target.dtype != torch.long:
                target = target.long()
        rows = outputs if outputs.ndim == 2 else outputs.reshape(-1, classes)  # (N*T, C)
        if rows.shape[0] != target.shape[0]:
            raise DataError(
                f"expected one label per output row ({rows.shape[0]}), received labels of shape "
                f"{tuple(y.shape)} for outputs of shape {tuple(outputs.shape)}. Fix: pass class "
                f"indices of shape (N,) or one-hot labels of shape (N, {classes})."
            )
        for k in self._top_k:
            hits = (rows.topk(k, dim=-1).indices == target[:, None]).any(-1).sum()
            total = self._correct_top_k.get(k)
            self._correct_top_k[k] = hits if total is None else total + hits
        if self._keep_scores:
            self._scores.append(torch.softmax(rows, -1) if self.from_logits else rows)
        return rows.argmax(-1), target

    def _update_binary(self, outputs: torch.Tensor, y: torch.Tensor):
        values = outputs.reshape(-1)
        target = _shaped_like(y, values) > 0.5  # also maps -1/1 hinge labels to 0/1
        if self._keep_scores or self._keep_values:
            self._scores.append(self._probabilities(values))
        return values > (0.0 if self.from_logits else 0.5), target

    def _probabilities(self, outputs: torch.Tensor) -> torch.Tensor:
        if not self.from_logits:
            return outputs
        return torch.sigmoid(outputs) if self.kind == "binary" else torch.softmax(outputs, -1)

    # -- once per epoch -----------------------------------------------------------------------
    def compute(self) -> dict[str, float]:
        """The scalar metrics so far, as floats (one host read). Accumulation continues after.

        Example:
            >>> import torch
            >>> metrics = MetricSet(["mae"], kind="regression", num_outputs=1, from_logits=False)
            >>> metrics.update(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
            >>> metrics.compute()
            {'mae': 1.0}
        """
        results = self._evaluate()
        scalars = {name: value for name, value in results.items() if value.numel() == 1}
        if not scalars:
            return {}
        values = torch.stack([v.reshape(()).float() for v in scalars.values()]).cpu().tolist()
        return dict(zip(scalars, values, strict=True))

    def compute_all(self) -> dict[str, Any]:
        """Like :meth:`compute`, plus non-scalar results as CPU tensors: ``"confusion_matrix"``
        (rows: true class, columns: predicted) and ``"NAME_per_class"`` arrays.

        Example:
            >>> import torch
            >>> metrics = MetricSet(["confusion_matrix"], kind="multiclass", num_outputs=2,
            ...                     from_logits=True)
            >>> metrics.update(torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([0, 1]))
            >>> metrics.compute_all()["confusion_matrix"].tolist()
            [[1, 0], [1, 0]]
        """
        results = self._evaluate()
        scalars = self.compute()
        arrays = {name: v.cpu() for name, v in results.items() if name not in scalars}
        return {**scalars, **arrays}

    @torch.no_grad()
    def _evaluate(self) -> dict[str, torch.Tensor]:
        if self._samples == 0:
            return {}
        results: dict[str, torch.Tensor] = {}
        predictions, scores, targets, raw = (
            _concatenated(s) for s in (self._predictions, self._scores, self._targets, self._raw)
        )
        for spec in self.specs:
            if spec.metric == "accuracy":
                results["accuracy"] = self._correct.float() / self._samples
            elif isinstance(spec, TopKAccuracy):
                results[spec.log_name] = self._correct_top_k[spec.k].float() / self._samples
            elif spec.metric in _VALUE_METRICS:
                results[spec.log_name] = _value_metric(spec.metric, scores, targets)
            elif spec.metric in _SCORE_METRICS:
                results[spec.log_name] = self._score_metric(spec.metric, scores, targets)
            else:
                value = self._label_metric(spec, predictions, targets)
                if spec.average == "per_class":
                    results[f"{spec.metric}_per_class"] = value
                    for i, per_class in enumerate(value):
                        results[f"{spec.metric}_class_{i}"] = per_class
                else:
                    results[spec.log_name] = value
        for name, metric in self.torchmetrics.items():
            metric.reset()
            metric.update(raw, targets)
            results[name] = metric.compute()
            metric.reset()
        for name, total in self._function_sums.items():
            results[name] = total / self._samples
        return results

    def _label_metric(self, spec: MetricSpec, predictions: torch.Tensor, targets: torch.Tensor):
        name = "f1_score" if spec.metric == "f1" else spec.metric
        predictions, targets = predictions.long(), targets.long()
        if self.kind == "binary" and spec.average is None:
            return getattr(TMC, f"binary_{name}")(predictions, targets)
        classes = 2 if self.kind == "binary" else self.num_outputs
        function = getattr(TMC, f"multiclass_{name}")
        if name == "confusion_matrix":
            return function(predictions, targets, num_classes=classes)
        average = {"per_class": "none", None: "macro"}.get(spec.average, spec.average)
        return function(predictions, targets, num_classes=classes, average=average)

    def _score_metric(self, metric: str, scores: torch.Tensor, targets: torch.Tensor):
        name = "auroc" if metric == "auc" else metric
        if self.kind == "binary":
            return getattr(TMC, f"binary_{name}")(scores.float(), targets.long())
        function = getattr(TMC, f"multiclass_{name}")
        return function(scores.float(), targets, num_classes=self.num_outputs, average="macro")


def _shaped_like(y: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    if y.shape == outputs.shape:
        return y
    if y.numel() != outputs.numel():
        raise DataError(
            f"expected targets with one value per output {tuple(outputs.shape)}, received targets "
            f"of shape {tuple(y.shape)}. Fix: match the last layer's units to the targets."
        )
    return y.reshape(outputs.shape)


def _concatenated(stored: list[torch.Tensor]) -> torch.Tensor | None:
    """Concatenate in place of the pieces (so the next compute is cheap), leaving them usable."""
    if not stored:
        return None
    if len(stored) > 1:
        stored[:] = [torch.cat(stored)]
    return stored[0]


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
