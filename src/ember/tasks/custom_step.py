"""Keras' way to customise ``fit``: a model's own ``train_step``/``test_step``, on the engine.

A subclass of :class:`ember.Model` that overrides ``train_step(self, data)`` gets this task from
``compile``. Its step computes the outputs and the loss, and returns them as a dict holding
``"loss"``; the engine then does what Keras' torch-backend guide writes by hand (``backward``,
the optimizer step), plus mixed precision, clipping and callbacks. The compiled loss and
metrics stay available as ``self.compute_loss(...)`` and ``self.compute_metrics(...)``.

Example:
    >>> import torch, ember
    >>> from ember import layers
    >>> class Net(ember.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = layers.Dense(1)
    ...     def call(self, inputs):
    ...         return self.dense(inputs)
    ...     def train_step(self, data):
    ...         x, y = data
    ...         y_pred = self(x, training=True)
    ...         loss = self.compute_loss(y=y, y_pred=y_pred)
    ...         return {"loss": loss, "double": 2 * loss.detach()}
    >>> net = Net()
    >>> net.compile(optimizer="sgd", loss="mse", device="cpu")
    >>> sorted(net.fit(torch.randn(32, 3), torch.randn(32, 1), verbose=0).history)
    ['double', 'loss']
"""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError
from ember.tasks.supervised import Supervised
from ember.train.task import Task

Batch = tuple[Any, ...]


class CustomStep(Task):
    """Runs ``model.train_step(data)`` (and ``model.test_step`` when overridden) as the task's
    steps; ``supervised`` (the compiled loss and metrics) does the rest: set-up, checks,
    prediction, and the default validation step."""

    def __init__(self, model: Any, supervised: Supervised, custom_test: bool) -> None:
        super().__init__(supervised.module)
        self.model = model
        self.supervised = supervised
        self.custom_test = custom_test
        self.metrics = None
        self.class_weight = None

    def setup(self, example: Batch, device: torch.device) -> None:
        self.supervised.class_weight = self.class_weight
        self.supervised.setup(example, device)
        self.metrics = self.supervised.metrics

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The model's ``train_step``; its ``"loss"`` is what the engine back-propagates."""
        return _checked(self.model.train_step(_data(batch)), "train_step", need_loss=True)

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        if not self.custom_test:
            return self.supervised.validation_step(batch)
        return _checked(self.model.test_step(_data(batch)), "test_step", need_loss=False)

    def predict_step(self, batch: Batch) -> Any:
        return self.supervised.predict_step(batch)


def _data(batch: Batch) -> Batch:
    """Keras hands ``train_step`` ``(x, y)`` or ``(x, y, sample_weight)``, or ``x`` alone."""
    return batch[0] if len(batch) == 1 else tuple(batch)


def _checked(result: Any, method: str, need_loss: bool) -> dict[str, torch.Tensor]:
    if not isinstance(result, dict) or (need_loss and "loss" not in result):
        raise ConfigError(
            f"{method}() must return a dict holding the step's loss tensor, e.g. "
            f"{{'loss': loss}}, received {type(result).__name__}. In ember the engine runs "
            f"loss.backward() and the optimizer step after {method}(): remove them from it and "
            f"return the loss."
        )
    if need_loss and not (
        isinstance(result["loss"], torch.Tensor) and result["loss"].requires_grad
    ):
        raise ConfigError(
            f"{method}()'s 'loss' must be a tensor with gradients (computed from the model's "
            f"outputs), received {result['loss']!r}. Fix: return the loss before any .item() "
            f"or .detach(); the engine runs backward on it."
        )
    return {
        name: value if isinstance(value, torch.Tensor) else torch.as_tensor(float(value))
        for name, value in result.items()
    }
