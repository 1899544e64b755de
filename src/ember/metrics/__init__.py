"""Metrics by Keras name, accumulated on the device and computed once with torchmetrics.

A torchmetrics ``update`` costs tens of microseconds, a sizeable share of a small training step, so
:class:`MetricSet` never calls torchmetrics per batch. ``update`` only keeps cheap detached tensors
on the device (a running count of correct predictions for accuracy; predicted labels, scores or
values for the rest), and ``compute`` concatenates them once and evaluates every metric with
``torchmetrics.functional``. No host sync happens before ``compute``.

The package has one module per job: ``specs`` (the ``METRICS`` registry of names,
:class:`MetricSpec`, :class:`TopKAccuracy` and :func:`get`), ``metric_set`` (:class:`MetricSet`)
and ``evaluation`` (the values computed from what was accumulated).

Example:
    >>> import torch
    >>> from ember.metrics import MetricSet
    >>> metrics = MetricSet(["accuracy", "f1"], kind="multiclass", num_outputs=3, from_logits=True)
    >>> metrics.update(torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), torch.tensor([0, 2]))
    >>> metrics.compute()["accuracy"]
    0.5
"""

from ember.metrics.metric_set import MetricSet
from ember.metrics.specs import METRICS, MetricSpec, TopKAccuracy, get

__all__ = ["METRICS", "MetricSet", "MetricSpec", "TopKAccuracy", "get"]
