"""What batch-end hooks receive: the step's outputs, or Keras' running means computed on read.

ember's ``on_batch_end(batch, logs)`` (and ``on_evaluate_batch_end``) gets the step's own
outputs, tensors on the device. Keras hands ``on_train_batch_end`` (and ``on_test_batch_end``)
the means of the loss and the metrics over the epoch so far instead; the engine hands those
hooks a :class:`BatchLogs` holding the same, whose keys are known at once and whose values are
computed only when a hook reads one. A hook that never reads costs no device sync, and an epoch
without Keras batch hooks builds no logs at all.

Example:
    >>> import torch
    >>> seen = []
    >>> running = RunningLogs(None, [], [lambda batch, logs: seen.append(dict(logs))])
    >>> for loss, size in [(1.0, 10), (4.0, 20)]:
    ...     running.records.append(({"loss": torch.tensor(loss)}, size))
    ...     running.end_batch(len(seen), running.records[-1][0])
    >>> [float(logs["loss"]) for logs in seen]  # (1 * 10 + 4 * 20) / 30 = 3
    [1.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch

from ember.errors import ConfigError
from ember.train.records import Records

Hook = Callable[[int, Any], None]


class RunningLogs:
    """One epoch's records (training or evaluation) and its batch-end hooks.

    Made at the start of an epoch: it resets the task's ``metrics`` (anything with ``names``,
    ``reset()`` and ``compute()``, or None) and holds an empty ``records`` list, to which the
    engine appends each step's ``(outputs, batch size)``. ``step_hooks`` (ember's) get each
    step's outputs, ``mean_hooks`` (Keras') a :class:`BatchLogs`. Each read of those adds only
    the steps recorded since the last read, so reading after every step costs one pass in all.
    """

    def __init__(self, metrics: Any, step_hooks: Sequence[Hook], mean_hooks: Sequence[Hook]):
        if metrics is not None:
            metrics.reset()
        self.records: Records = []
        self.metrics = metrics if metrics is not None and len(metrics) else None
        self.step_hooks, self.mean_hooks = step_hooks, mean_hooks
        self.hooks = bool(step_hooks or mean_hooks)  # whether end_batch has anything to do
        self._sums: dict[str, torch.Tensor] = {}
        self._sizes: dict[str, int] = {}
        self._added = 0  # records already in the sums
        self._outputs: dict[str, None] = {}  # the step outputs' names seen so far, in order
        self._named = 0  # records already looked at for names
        self._names: list[str] | None = None

    def end_batch(self, batch: int, outputs: Any) -> None:
        """Call the step hooks with ``(batch, outputs)``, then the mean hooks with
        ``(batch, logs)``: the means up to this step (the step already in ``records``)."""
        for hook in self.step_hooks:
            hook(batch, outputs)
        if self.mean_hooks:
            logs = BatchLogs(self)
            for hook in self.mean_hooks:
                hook(batch, logs)
            logs.close()

    def names(self) -> list[str]:
        """The logged names so far, the step outputs' and the metrics' (no device read)."""
        for outputs, _ in self.records[self._named :]:
            if not self._outputs.keys() >= outputs.keys():  # a new name (rare): list again
                self._outputs.update(dict.fromkeys(outputs))
                self._names = None
        self._named = len(self.records)
        if self._names is None:  # sorted, as Keras hands every callback its logs
            metric_names = self.metrics.names if self.metrics is not None else []
            self._names = sorted([*self._outputs, *metric_names])
        return self._names

    def output_means(self) -> dict[str, torch.Tensor]:
        """Each step output's mean so far, weighted by batch size, as a 0-d tensor on its
        device (device arithmetic only: no host read)."""
        for outputs, size in self.records[self._added :]:
            for name, value in outputs.items():
                # float64 where the device has it, so the last step's mean is the epoch's
                weighted = value.detach().to(_sum_dtype(value)) * size
                total = self._sums.get(name)
                self._sums[name] = weighted if total is None else total + weighted
                self._sizes[name] = self._sizes.get(name, 0) + size
        self._added = len(self.records)
        return {name: (total / self._sizes[name]).float() for name, total in self._sums.items()}

    def metric_values(self) -> dict[str, float]:
        """The metrics over the epoch so far (``metrics.compute()``: one host read)."""
        return {} if self.metrics is None else dict(self.metrics.compute())


def _sum_dtype(value: torch.Tensor) -> torch.dtype:
    return torch.float32 if value.device.type == "mps" else torch.float64


class BatchLogs(Mapping):
    """One step's logs: a read-only mapping of names (sorted, as Keras gives them) to the
    epoch-so-far means.

    Losses (and any other step output) are 0-d tensors on the device (``float(logs["loss"])``
    syncs); metrics are floats, all computed on the first read of one (a device read). Read
    them inside the hook: once the hook returns, an unread ``BatchLogs`` refuses reads (the
    engine has moved on), so keep ``dict(logs)`` to look at later.
    """

    def __init__(self, running: RunningLogs) -> None:
        self._running = running
        self._names = running.names()
        self._outputs: dict[str, torch.Tensor] | None = None
        self._metrics: dict[str, float] | None = None
        self._open = True

    def close(self) -> None:
        """Called by the engine after the step's hooks: later reads see only what was read."""
        self._open = False

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        is_metric = self._running.metrics is not None and name in self._running.metrics.names
        if is_metric and self._metrics is None:
            self._metrics = self._compute(self._running.metric_values)
        if not is_metric and self._outputs is None:
            self._outputs = self._compute(self._running.output_means)
        return self._metrics[name] if is_metric else self._outputs[name]

    def _compute(self, values: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if not self._open:
            raise ConfigError(
                f"these batch logs ({self._names}) were read after their batch ended, when the "
                f"epoch's means have moved on. Fix: read them inside the hook, or keep a copy "
                f"made there (dict(logs))."
            )
        return values()

    def __contains__(self, name: object) -> bool:
        return name in self._names  # by name: no value computed

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"BatchLogs({self._names})"
