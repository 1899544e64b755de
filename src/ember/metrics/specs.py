"""Metrics by name: the ``METRICS`` registry, :class:`MetricSpec`, :class:`TopKAccuracy` and
:func:`get`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import torchmetrics

from ember import checks
from ember.errors import ConfigError
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
        name: the name it is logged under (Keras' ``name``); None: ``metric`` with its average.

    Example:
        >>> MetricSpec("f1", average="per_class").log_name
        'f1_per_class'
        >>> MetricSpec("mae", name="mean_absolute_error").log_name
        'mean_absolute_error'
    """

    def __init__(self, metric: str, average: str | None = None, *, name: str | None = None) -> None:
        if average is not None and (metric not in _AVERAGED or average not in _AVERAGES):
            raise ConfigError(
                f"expected average in {sorted(_AVERAGES)} for one of {sorted(_AVERAGED)}, "
                f"received metric={metric!r}, average={average!r}"
            )
        self.metric = metric
        self.average = average
        self.name = name

    @property
    def log_name(self) -> str:
        """The name under which the metric is logged (per-class metrics log ``NAME_class_I``)."""
        if self.name is not None:
            return self.name
        return self.metric if self.average is None else f"{self.metric}_{self.average}"

    def __repr__(self) -> str:
        named = "" if self.name is None else f", name={self.name!r}"
        return f"{type(self).__name__}({self.metric!r}, average={self.average!r}{named})"


_AVERAGES = {"macro", "micro", "per_class"}


class TopKAccuracy(MetricSpec):
    """How often the true class is among the ``k`` highest outputs (multiclass only).

    Example:
        >>> TopKAccuracy(3).log_name
        'top_3_accuracy'
    """

    def __init__(self, k: int = 5, *, name: str | None = None) -> None:
        super().__init__("top_k_accuracy", name=name)
        self.k = checks.positive_int("k", k)

    @property
    def log_name(self) -> str:
        return f"top_{self.k}_accuracy" if self.name is None else self.name

    def __repr__(self) -> str:
        named = "" if self.name is None else f", name={self.name!r}"
        return f"TopKAccuracy(k={self.k}{named})"


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
        MetricSpec('accuracy', average=None, name='acc')
    """
    return resolve(spec)[1]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def resolve(spec: Any) -> tuple[str, Any]:
    """``(log name, entry)`` for one metric spec: a name becomes a :class:`MetricSpec` logged
    under that name, as Keras 3 logs a metric given by name (``"mean_absolute_error"`` stays
    ``"mean_absolute_error"``, ``"acc"`` stays ``"acc"``); ``MetricSpec`` and torchmetrics
    objects and functions come back as they are, logged under their own names.

    Example:
        >>> resolve("mean_absolute_error")
        ('mean_absolute_error', MetricSpec('mae', average=None, name='mean_absolute_error'))
        >>> resolve(TopKAccuracy(3))
        ('top_3_accuracy', TopKAccuracy(k=3))
    """
    if isinstance(spec, str):
        entry = METRICS.get(spec)()
        entry.name = spec  # a fresh spec from the registry's factory: ours to name
        return spec, entry
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
