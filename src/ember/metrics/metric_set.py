"""The metrics of one task, accumulated on the device: :class:`MetricSet`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
import torchmetrics

from ember.errors import ConfigError, DataError
from ember.metrics.evaluation import (
    _concatenated,
    _label_metric,
    _row_mask,
    _rows,
    _score_metric,
    _shaped_like,
    _value_metric,
)
from ember.metrics.specs import (
    _LABEL_METRICS,
    _SCORE_METRICS,
    _VALUE_METRICS,
    MetricSpec,
    TopKAccuracy,
    resolve,
)

States = list[torch.Tensor | None]
# (rows, totals) of this process -> (rows, totals) of every process: see gathering().
Gather = Callable[[States, States], tuple[States, States]]
_GATHER: ContextVar[Gather | None] = ContextVar("ember_metrics_gather", default=None)


@contextmanager
def gathering(gather: Gather) -> Iterator[None]:
    """Inside this block, :meth:`MetricSet.compute` gives the metrics of every process's data.

    ``gather(rows, totals)``, a collective every process calls in the same order, returns each
    of ``rows`` concatenated over the processes (first axis; None: none held) and each of
    ``totals`` summed (:func:`ember.train.distributed.gather_states`). torchmetrics objects
    sync their own states (torchmetrics' ``sync``, in their ``compute``) here and nowhere else.

    Example:
        >>> import torch
        >>> metrics = MetricSet(["mae"], kind="regression", num_outputs=1, from_logits=False)
        >>> metrics.update(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
        >>> def another(rows, totals):  # a second process, whose 2 predictions are exact
        ...     return [r if r is None else torch.cat([r, 0 * r]) for r in rows], totals
        >>> with gathering(another):
        ...     metrics.compute()
        {'mae': 0.5}
    """
    token = _GATHER.set(gather)
    try:
        yield
    finally:
        _GATHER.reset(token)


def _gathering_now() -> bool:
    return _GATHER.get() is not None


class MetricSet:
    """The metrics of one task, accumulated on the device; read with :meth:`compute`.

    Args:
        specs: metric names (``"accuracy"``, ``"f1_per_class"``, ``"auc"`` ...), ``MetricSpec``
            objects such as ``TopKAccuracy(3)``, torchmetrics ``Metric`` objects (fed once, at
            ``compute``), or functions ``fn(y_pred, y_true) -> scalar`` (averaged over batches,
            weighted by batch size). A metric given by name is logged under that name, as in
            Keras 3 (``"mean_absolute_error"`` and ``"mae"`` are the same metric, logged as
            given); a ``per_class`` one as ``NAME_class_I``.
        kind: ``"multiclass"``, ``"binary"`` or ``"regression"`` (the loss's ``kind``).
        num_outputs: the model's outputs on the last axis (the number of classes for multiclass).
        from_logits: whether the outputs are logits (softmax/sigmoid is applied for scores, and
            binary outputs are thresholded at 0 instead of 0.5).

    ``update`` takes the output mask of a sequence model (``(N, steps)``, True at real steps):
    every metric then counts the real steps only, as Keras weights its metrics by the mask.

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
                # torchmetrics would sync at every compute() once a process group exists, but
                # a per-step read runs in one process alone: sync in gathering() only (the
                # metrics inside a compositional or wrapped metric too).
                for part in entry.modules():
                    if isinstance(part, torchmetrics.Metric):
                        part.distributed_available_fn = _gathering_now
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
    _resolve = staticmethod(resolve)  # spec -> (log name, entry)

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
        self._kept: list[torch.Tensor] = []  # with masks: which stored rows are real steps

    def to(self, device: torch.device | str) -> MetricSet:
        """Move what is accumulated (and torchmetrics objects) to ``device``; returns self."""
        for metric in self.torchmetrics.values():
            metric.to(device)
        if self._correct is not None:
            self._correct = self._correct.to(device)
        self._correct_top_k = {k: v.to(device) for k, v in self._correct_top_k.items()}
        self._function_sums = {k: v.to(device) for k, v in self._function_sums.items()}
        for stored in (self._predictions, self._scores, self._targets, self._raw, self._kept):
            stored[:] = [t.to(device) for t in stored]
        return self

    # -- per batch: cheap, on the device, no host sync ----------------------------------------
    def update(
        self, outputs: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        """Accumulate one batch of raw model ``outputs`` (logits if ``from_logits``) and labels;
        with the outputs' ``mask``, of their real steps only (a task's outputs carry a mask on
        every batch or on none)."""
        if outputs.requires_grad:
            outputs = outputs.detach()
        if self.kind == "multiclass":
            predictions, target = self._update_multiclass(outputs, y, mask)
        elif self.kind == "binary":
            predictions, target = self._update_binary(outputs, y)
        else:
            predictions, target = outputs, _shaped_like(y, outputs)
        kept = None
        if mask is not None:
            kept = _row_mask(mask, target)
            if self.kind == "regression":  # one row per step, as the mask counts them
                predictions, target = _rows(predictions, kept), _rows(target, kept)
            if self._keep_targets:
                self._kept.append(kept)
        if self._count_accuracy:
            hits = predictions == target
            correct = (hits if kept is None else hits & kept).sum()
            self._correct = correct if self._correct is None else self._correct + correct
        if self._keep_labels:
            self._predictions.append(predictions)
        if self._keep_values and self.kind == "regression":
            self._scores.append(predictions)
        if self._keep_targets:
            self._targets.append(target)
        if self._keep_raw:
            self._raw.append(outputs if kept is None else _rows(outputs, kept))
        count = target.numel() if kept is None else kept.sum()
        if mask is not None and self.functions:
            # A function sees the real steps alone (selecting them reads the mask on the host).
            outputs, y = outputs[mask], y[mask]
        for name, function in self.functions.items():
            value = function(outputs, y).detach().float() * count
            total = self._function_sums.get(name)
            self._function_sums[name] = value if total is None else total + value
        self._samples += count

    def _update_multiclass(
        self, outputs: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None = None
    ):
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
            hits = (rows.topk(k, dim=-1).indices == target[:, None]).any(-1)
            hits = (hits if mask is None else hits & mask.reshape(-1)).sum()
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
        gather = _GATHER.get()
        if self._samples == 0 and gather is None:
            return {}
        results: dict[str, torch.Tensor] = {}
        predictions, scores, targets, raw = (
            _concatenated(s) for s in (self._predictions, self._scores, self._targets, self._raw)
        )
        kept = _concatenated(self._kept)
        if kept is not None:  # masked outputs: the real steps only
            predictions, scores, targets, raw = (
                None if t is None else t[kept] for t in (predictions, scores, targets, raw)
            )
        local_targets = targets  # torchmetrics objects take this process's rows, then sync
        samples, correct = self._samples, self._correct
        top_k, sums = self._correct_top_k, self._function_sums
        if gather is not None:  # several processes: the rows and counts of all of them
            (predictions, scores, targets), (samples, correct, top_k, sums) = self._gathered(
                gather, [predictions, scores, targets]
            )
            if not int(samples):  # no process has a sample (every process agrees)
                return {}
        for spec in self.specs:
            if spec.metric == "accuracy":
                results[spec.log_name] = correct.float() / samples
            elif isinstance(spec, TopKAccuracy):
                results[spec.log_name] = top_k[spec.k].float() / samples
            elif spec.metric in _VALUE_METRICS:
                results[spec.log_name] = _value_metric(spec.metric, scores, targets)
            elif spec.metric in _SCORE_METRICS:
                results[spec.log_name] = _score_metric(
                    spec.metric, scores, targets, kind=self.kind, num_outputs=self.num_outputs
                )
            else:
                value = _label_metric(
                    spec, predictions, targets, kind=self.kind, num_outputs=self.num_outputs
                )
                if spec.average == "per_class":
                    results[f"{spec.metric}_per_class"] = value
                    for i, per_class in enumerate(value):
                        results[f"{spec.metric}_class_{i}"] = per_class
                else:
                    results[spec.log_name] = value
        for name, metric in self.torchmetrics.items():
            metric.reset()
            if raw is not None:  # None: this process holds no sample (other processes do)
                metric.update(raw, local_targets)
            results[name] = metric.compute()  # in gathering(): over every process's states
            metric.reset()
        for name, total in sums.items():
            results[name] = total / samples
        return results

    def _gathered(self, gather: Gather, rows: States) -> tuple[States, tuple[Any, ...]]:
        """``rows``, and the counts (samples, correct, top-k, function sums), of every process."""
        top_k, functions = list(self._top_k), list(self.functions)
        counts = [
            torch.as_tensor(self._samples),
            self._correct,
            *(self._correct_top_k.get(k) for k in top_k),
            *(self._function_sums.get(name) for name in functions),
        ]
        rows, counts = gather(rows, counts)
        samples, correct, *rest = counts
        sums = dict(zip(functions, rest[len(top_k) :], strict=True))
        return rows, (samples, correct, dict(zip(top_k, rest, strict=False)), sums)
