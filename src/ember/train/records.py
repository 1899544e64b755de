"""The per-step outputs of an epoch, and their means: what the engine logs.

Example:
    >>> import torch
    >>> mean_records([({"loss": torch.tensor(1.0)}, 10), ({"loss": torch.tensor(4.0)}, 20)])
    {'loss': 3.0}
"""

from __future__ import annotations

from typing import Any

import torch

Records = list[tuple[dict[str, torch.Tensor], int]]  # (a step's outputs, its batch size)


def mean_records(records: Records) -> dict[str, Any]:
    """Each logged value's mean over the samples (one host read per name).

    Weighted by batch size, so that a short last batch counts for what it holds. A value missing
    from some steps (an objective that steps every k-th) is averaged over the steps that have it.
    """
    if not records:
        return {}
    names = dict.fromkeys(name for outputs, _ in records for name in outputs)
    logs = {}
    for name in names:
        pairs = [(outputs[name], size) for outputs, size in records if name in outputs]
        sizes = torch.tensor([size for _, size in pairs], dtype=torch.float64)
        values = torch.stack([value.float() for value, _ in pairs]).double().cpu()
        logs[name] = float((values * sizes).sum() / sizes.sum())
    return logs


def epoch_logs(records: Records, metrics: Any) -> dict[str, Any]:
    """An epoch's logs: each step output's mean (:func:`mean_records`), then the metrics
    (``metrics.compute()``, when there are any): one host read each.

    Example:
        >>> import torch
        >>> epoch_logs([({"loss": torch.tensor(2.0)}, 4)], metrics=None)
        {'loss': 2.0}
    """
    logs = mean_records(records)
    if metrics is not None and len(metrics):
        logs.update(metrics.compute())
    return logs
