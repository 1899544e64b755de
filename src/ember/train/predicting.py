"""The engine's prediction pass: the outputs of every batch, with the predict hooks around."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from ember.data.structure import concatenate_batches
from ember.errors import DataError
from ember.train.hooks import Hooks, call
from ember.train.task import Task


def predict_batches(
    task: Task,
    batches: Iterable,
    autocast: contextlib.AbstractContextManager | None,
    using: Callable[[Any], Any] | None,
    hooks: Hooks,
) -> Any:
    """The batches' outputs, concatenated: ``task.predict_step(batch)`` per batch, or
    ``using(inputs)`` when given. Keras' predict hooks run around them, ``on_predict_batch_end``
    with the batch's outputs as ``logs["outputs"]``. The caller sets eval and inference mode.

    Example:
        >>> import torch
        >>> from ember.train.hooks import attach
        >>> from ember.train.task import Task
        >>> task = Task(torch.nn.Linear(2, 1))
        >>> batches = [(torch.ones(3, 2),), (torch.ones(1, 2),)]
        >>> hooks = attach([], owner=None, verbose=0)
        >>> predict_batches(task, batches, None, None, hooks).shape
        torch.Size([4, 1])
    """
    call(hooks, "on_predict_start", {})
    outputs = []
    for index, batch in enumerate(batches):
        call(hooks, "on_predict_batch_start", index, {})
        with autocast or contextlib.nullcontext():
            outputs.append(task.predict_step(batch) if using is None else using(batch[0]))
        call(hooks, "on_predict_batch_end", index, {"outputs": outputs[-1]})
    if not outputs:
        raise DataError("predict received no batches. Fix: pass some data.")
    call(hooks, "on_predict_end", {})
    return concatenate_batches(outputs)
