"""Several outputs, one loss each: Keras' ``compile(loss=[...]/{...}, loss_weights=...)``.

The step's loss is ``sum(weight_i * loss_i(output_i, y_i))`` plus the layers' weight penalties;
each output's loss and metrics are logged under its name (``class_loss``, ``class_accuracy``), as
Keras 3 does. Labels come as a list in the outputs' order or a dict keyed by output name.

Example:
    >>> import torch, ember
    >>> from ember import layers
    >>> inputs = ember.Input(shape=(4,))
    >>> kind = layers.Dense(3, name="kind")(inputs)
    >>> size = layers.Dense(1, name="size")(inputs)
    >>> task = MultiOutput(ember.Model(inputs, [kind, size]), ["sparse_categorical_crossentropy",
    ...                    "mse"], names=["kind", "size"], loss_weights=[1.0, 0.5])
    >>> batch = (torch.randn(8, 4), [torch.randint(0, 3, (8,)), torch.randn(8, 1)])
    >>> task.setup(batch, torch.device("cpu"))
    >>> sorted(task.training_step(batch))
    ['kind_loss', 'loss', 'size_loss']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ember import losses as loss_registry
from ember.data.structure import leaves, map_structure
from ember.errors import ConfigError, DataError
from ember.layers.base import Layer, reset_states
from ember.metrics import MetricSet
from ember.train.task import Task

Batch = tuple[Any, ...]


class MultiOutput(Task):
    """Supervised learning for a model with several outputs (a list or dict of tensors).

    Args:
        module: the network; it returns a list/tuple of outputs in ``names`` order, or a dict
            keyed by them.
        loss: one loss for every output, or a list (outputs' order) or dict (by name).
        names: the outputs' names, used to read dict labels and to name the logs.
        loss_weights: a list or dict of factors for the total loss (default 1 each).
        metrics: metric names for every output, or a list/dict of lists per output.
        from_logits: whether the outputs are logits (for metrics that need probabilities).
    """

    def __init__(
        self,
        module: nn.Module,
        loss: Any,
        *,
        names: Sequence[str],
        loss_weights: Any = None,
        metrics: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(module)
        self.names = list(names)
        self.losses = [loss_registry.get(spec) for spec in _per_output(loss, self.names, "loss")]
        if from_logits:
            self.losses = [loss_registry.with_logits(loss) for loss in self.losses]
        weights = _per_output(
            1.0 if loss_weights is None else loss_weights, self.names, "loss_weights"
        )
        self.loss_weights = [float(w) for w in weights]
        self.metric_specs = [
            list(specs or []) for specs in _per_output(metrics, self.names, "metrics", nested=True)
        ]
        self.from_logits = from_logits
        self.metrics: OutputMetrics | None = None
        self.class_weight = None
        self._regularized: list[Layer] = []

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check each output's labels against it and create each output's metrics."""
        x = example[0]
        checker = getattr(self.module, "check_input", None)
        if checker is not None:
            checker(x)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                outputs = self._as_list(self.module(map_structure(lambda t: t[:2], x)))
        finally:
            self.module.train(was_training)
            reset_states(self.module)
        sizes = [o.shape[-1] if o.ndim > 1 else 1 for o in outputs]
        if len(example) > 1:
            for name, loss, y, size in zip(
                self.names, self.losses, self._labels(example[1]), sizes
            ):
                try:
                    loss_registry.validate_targets(loss, y, size)
                except Exception as error:
                    raise type(error)(f"output {name!r}: {error}") from None
        if any(self.metric_specs) and self.metrics is None:
            self.metrics = OutputMetrics(
                {
                    name: MetricSet(
                        specs,
                        kind=getattr(loss, "kind", "regression"),
                        num_outputs=size,
                        from_logits=self.from_logits,
                    )
                    for name, specs, loss, size in zip(
                        self.names, self.metric_specs, self.losses, sizes
                    )
                    if specs
                }
            )
        if self.metrics is not None:
            self.metrics.to(device)
        self._regularized = [
            m
            for m in self.module.modules()
            if isinstance(m, Layer)
            and m.built
            and (m.regularization_loss() is not None or getattr(m, "adds_losses", False))
        ]

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Each output's loss, their weighted sum as ``loss``, and metric updates."""
        return self.validation_step(batch)

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        outputs = self._as_list(self.module(batch[0]))
        labels = self._labels(batch[1])
        sample_weight = batch[2] if len(batch) > 2 else None
        logs: dict[str, torch.Tensor] = {}
        total = None
        for name, loss, weight, output, y in zip(
            self.names, self.losses, self.loss_weights, outputs, labels
        ):
            value = (
                loss(output, y)
                if sample_weight is None
                else loss(output, y, sample_weight=sample_weight)
            )
            logs[f"{name}_loss"] = value.detach()
            total = weight * value if total is None else total + weight * value
            if self.metrics is not None:
                self.metrics.update(name, output.detach(), y)
        for layer in self._regularized:
            penalty = layer.regularization_loss()
            if penalty is not None:  # None: an add_loss layer that added nothing this step
                total = total + penalty
        return {"loss": total, **logs}

    def predict_step(self, batch: Batch) -> Any:
        return self.module(batch[0])

    def _as_list(self, outputs: Any) -> list[torch.Tensor]:
        if isinstance(outputs, Mapping):
            return [outputs[name] for name in self.names]
        return list(outputs)

    def _labels(self, y: Any) -> list[torch.Tensor]:
        if isinstance(y, Mapping):
            missing = [name for name in self.names if name not in y]
            if missing:
                raise DataError(
                    f"the labels lack output(s) {missing}; the model's outputs are "
                    f"{self.names}. Fix: key y by the output names."
                )
            return [y[name] for name in self.names]
        labels = leaves(y) if isinstance(y, (list, tuple)) else [y]
        if len(labels) != len(self.names):
            raise DataError(
                f"the model has {len(self.names)} outputs ({', '.join(self.names)}), received "
                f"{len(labels)} label array(s). Fix: pass one y per output, as a list in the "
                f"outputs' order or a dict keyed by their names."
            )
        return labels


class OutputMetrics:
    """One :class:`MetricSet` per output, logged as ``<output>_<metric>``."""

    def __init__(self, sets: dict[str, MetricSet]) -> None:
        self.sets = sets
        self.names = [f"{output}_{name}" for output, s in sets.items() for name in s.names]

    def __len__(self) -> int:
        return len(self.names)

    def reset(self) -> None:
        for metrics in self.sets.values():
            metrics.reset()

    def to(self, device: torch.device | str) -> OutputMetrics:
        for metrics in self.sets.values():
            metrics.to(device)
        return self

    def update(self, output: str, outputs: torch.Tensor, y: torch.Tensor) -> None:
        if output in self.sets:
            self.sets[output].update(outputs, y)

    def compute(self) -> dict[str, float]:
        return {
            f"{output}_{name}": value
            for output, metrics in self.sets.items()
            for name, value in metrics.compute().items()
        }


def _per_output(value: Any, names: list[str], what: str, nested: bool = False) -> list[Any]:
    """``value`` spread over the outputs: one for all, a list in order, or a dict by name."""
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ConfigError(
                f"{what} names output(s) {unknown}, but the model's outputs are {names}. Fix: "
                f"key {what} by those names."
            )
        return [value.get(name) for name in names]
    is_list = isinstance(value, (list, tuple))
    if nested and is_list and not any(isinstance(v, (list, tuple)) for v in value):
        return [value] * len(names)  # metrics=["accuracy"]: the same list for every output
    if is_list:
        if len(value) != len(names):
            raise ConfigError(
                f"{what} has {len(value)} entries but the model has {len(names)} outputs "
                f"({', '.join(names)}). Fix: one entry per output, or a dict keyed by name."
            )
        return list(value)
    return [value] * len(names)
