"""Tasks: how one step turns a batch into losses and metrics. Tasks own no loop.

The engine (:class:`ember.Trainer`) calls ``training_step``/``validation_step``/``predict_step``
and reads ``task.module`` (what is trained) and ``task.metrics`` (a :class:`ember.metrics.MetricSet`
or None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ember import losses as loss_registry
from ember.data.structure import leaves, map_structure
from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer, reset_states, shape_matches
from ember.metrics import MetricSet
from ember.tasks.masking import output_mask, step_weights, track_masks, untrack_masks
from ember.train.task import Task

Batch = tuple[torch.Tensor, ...]


class Supervised(Task):
    """Supervised learning: ``loss(module(x), y)``, with optional sample/class weights and metrics.

    Args:
        module: the network.
        loss: a Keras loss name, an ember/torch loss module, or a function ``(y_pred, y_true)``.
        metrics: metric names or torchmetrics objects, computed on the device.
        from_logits: whether ``module`` outputs logits (for metrics that need probabilities).
        logits: an optional function computing logits when ``module`` ends in softmax/sigmoid
            (``Sequential.logits``); the loss is then computed from logits, which is stable.
        class_weight: ``{class index: weight}``, multiplies each sample's loss (Keras semantics).
        batch_transform: ``(x, y) -> (x, y)`` applied to each training batch only, such as
            :class:`ember.data.MixUp` or :class:`ember.data.CutMix`, which return class
            probabilities: the training loss is then cross-entropy against those
            (``sparse_categorical_crossentropy`` becomes ``categorical_crossentropy``), and
            the training metrics compare with their most likely class, as Keras' metrics do
            on mixed labels. Validation and prediction batches are never transformed.

    A model whose output carries a Keras mask (``Embedding(mask_zero=True)``, recurrent layers
    with ``return_sequences``, a per-step head) has its loss and every metric weighted per step
    by that mask, as Keras does: padded steps count in neither, and the loss is divided by the
    batch's real steps. Sample and class weights then weigh steps: a per-sample weight ``(N,)``
    each of its steps, a per-step one ``(N, steps)`` its step, a class weight each step by its
    label. Other models run as before, without a hook or a check per step.

    Example:
        >>> import torch, ember
        >>> task = ember.Supervised(torch.nn.Linear(4, 3), "sparse_categorical_crossentropy",
        ...                         metrics=["accuracy"], from_logits=True)
        >>> out = task.training_step((torch.randn(8, 4), torch.randint(0, 3, (8,))))
        >>> sorted(out)
        ['loss']
    """

    def __init__(
        self,
        module: nn.Module,
        loss: Any,
        metrics: Sequence[Any] | None = None,
        *,
        from_logits: bool = False,
        logits: Callable[[torch.Tensor], torch.Tensor] | None = None,
        class_weight: Mapping[int, float] | None = None,
        batch_transform: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        super().__init__(module)
        self.loss = loss_registry.get(loss)
        if from_logits:
            self.loss = loss_registry.with_logits(self.loss)
        if batch_transform is not None and not callable(batch_transform):
            raise ConfigError(
                f"expected a function (x, y) -> (x, y) such as ember.data.MixUp(num_classes=...), "
                f"received batch_transform={batch_transform!r}"
            )
        self.batch_transform = batch_transform
        # Mixed labels are class probabilities (N, C): the training loss must take them, while
        # validation keeps the integer labels and self.loss.
        self._mixed_loss = self.loss
        if batch_transform is not None:
            if isinstance(self.loss, loss_registry.SparseCategoricalCrossentropy):
                self._mixed_loss = loss_registry.CategoricalCrossentropy(
                    from_logits=self.loss.from_logits
                )
            elif self.loss.targets == "sparse" or self.loss.kind == "binary":
                raise ConfigError(
                    f"batch_transform turns labels into class probabilities, which the loss "
                    f"{self.loss.name!r} cannot take. Fix: use a multiclass cross-entropy, "
                    f"loss='sparse_categorical_crossentropy' or torch.nn.CrossEntropyLoss() "
                    f"(which also takes label_smoothing)."
                )
        self.forward = logits or module
        self.from_logits = from_logits or logits is not None
        self._logits_loss = logits is not None  # the loss was fused with the final activation
        self._masked: bool | None = None  # whether outputs carry a mask; known at set-up
        self.metric_specs = list(metrics or [])
        self.metrics: MetricSet | None = None
        self.class_weight = class_weight
        self._class_weights: torch.Tensor | None = None
        self._regularized: list[Layer] = []

    # -- set-up, once before each fit/evaluate/predict --------------------------------------
    def setup(self, example: Batch, device: torch.device) -> None:
        """Check labels against the model's outputs; create metrics and the class-weight table.

        ``example`` is the whole in-memory data or its first batch. Runs two samples through the
        module to learn its output size, so bad labels fail here, before any training step.
        """
        x = example[0]
        check_input_shape(self.module, x)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                outputs = self.forward(map_structure(lambda t: t[:2], x))
        except (RuntimeError, IndexError) as error:
            fix = "reshape the data to what the first layer expects, or change the first layer"
            if isinstance(x, torch.Tensor) and not x.is_floating_point():
                fix = (
                    f"x holds integers ({x.dtype}): convert it to floats (e.g. x / 255.0), "
                    f"unless the first layer is an Embedding"
                )
            shapes = ", ".join(f"{tuple(t.shape[1:])} {t.dtype}" for t in leaves(x))
            raise ShapeError(
                f"the model could not run on the data (per-sample input shape and dtype "
                f"{shapes}): {error}. Fix: {fix}."
            ) from error
        finally:
            self.module.train(was_training)
            reset_states(self.module)
        if self._masked is None:
            self._masked = self._track_output_mask(x)
        num_outputs = outputs.shape[-1] if outputs.ndim > 1 else 1
        if len(example) > 1:
            # The labels as they come, before any batch_transform mixes them.
            loss_registry.validate_targets(self.loss, example[1], num_outputs)
        mixed_classes = getattr(self.batch_transform, "num_classes", num_outputs)
        if mixed_classes != num_outputs:
            raise ConfigError(
                f"the batch_transform mixes labels into {mixed_classes} classes, but the model "
                f"has {num_outputs} outputs. Fix: pass num_classes={num_outputs} to it, or give "
                f"the last layer {mixed_classes} units."
            )
        if self.metric_specs and self.metrics is None:
            self.metrics = MetricSet(
                self.metric_specs,
                kind=getattr(self.loss, "kind", "regression"),
                num_outputs=num_outputs,
                from_logits=self.from_logits,
            )
        if self.metrics is not None:
            self.metrics.to(device)
        self._class_weights = None
        if self.class_weight:
            size = max(num_outputs, max(int(k) for k in self.class_weight) + 1)
            weights = torch.ones(size, device=device)
            for index, weight in self.class_weight.items():
                weights[int(index)] = float(weight)
            self._class_weights = weights
        # Which layers carry a penalty is fixed once built; the hot path visits only those.
        self._regularized = [
            m
            for m in self.module.modules()
            if isinstance(m, Layer)
            and m.built
            and (m.regularization_loss() is not None or getattr(m, "adds_losses", False))
        ]

    def _track_output_mask(self, x: Any) -> bool:
        """Whether the module's output carries a mask: hooks follow it (Keras' ``_keras_mask``)
        only then. The fused logits skip the final layer, so a masked model's loss takes its
        probabilities instead, as Keras computes it."""
        if not track_masks(self.module):
            return False
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                masked = output_mask(self.module(map_structure(lambda t: t[:2], x))) is not None
        finally:
            self.module.train(was_training)
            reset_states(self.module)
        if not masked:
            untrack_masks(self.module)
        elif self._logits_loss:
            self.forward = self.module
            self.loss = loss_registry.probabilities_version(self.loss)
            self._mixed_loss = loss_registry.probabilities_version(self._mixed_loss)
            self.from_logits = self.loss.from_logits
        return masked

    def compile(self) -> None:
        """Route the forward pass through ``torch.compile``."""
        self.forward = torch.compile(self.forward)

    # -- steps --------------------------------------------------------------------------------
    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Forward, loss (plus weight penalties) and metric update for one batch, after the
        ``batch_transform`` (see the class docs) when there is one."""
        if self.batch_transform is None:
            return self.validation_step(batch)
        x, y = self.batch_transform(batch[0], batch[1])
        outputs = self.forward(x)
        mask = output_mask(outputs) if self._masked else None
        weight = batch[2] if len(batch) > 2 else None
        loss = self._loss(outputs, y, weight, self._mixed_loss, mask)
        if self.metrics is not None:
            mixed = y.is_floating_point() and not batch[1].is_floating_point()
            self.metrics.update(outputs.detach(), y.argmax(-1) if mixed else y, mask)
        return {"loss": loss}

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Forward, loss and metric update for the batch as it is, never transformed; run by
        the engine under ``inference_mode``, and as the training step without a transform."""
        x, y = batch[0], batch[1]
        outputs = self.forward(x)
        mask = output_mask(outputs) if self._masked else None
        loss = self._loss(outputs, y, batch[2] if len(batch) > 2 else None, mask=mask)
        if self.metrics is not None:
            self.metrics.update(outputs.detach(), y, mask)
        return {"loss": loss}

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """The module's output (probabilities when it ends in softmax) for ``batch[0]``."""
        return self.module(batch[0])

    def loss_of(
        self, outputs: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The compiled loss of ``outputs`` against ``y``, with class and sample weights and the
        layers' weight penalties, as a step computes it (Keras' ``compute_loss``); weighted by
        the mask ``outputs`` carry, if any."""
        return self._loss(outputs, y, sample_weight, mask=output_mask(outputs))

    def update_metrics(self, outputs: torch.Tensor, y: torch.Tensor) -> None:
        """Add one batch to the metrics (Keras' ``compute_metrics``), weighted by the mask
        ``outputs`` carry, if any; read once per epoch."""
        if self.metrics is not None:
            self.metrics.update(outputs.detach(), y, output_mask(outputs))

    def _loss(
        self,
        outputs: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor | None,
        loss_function: loss_registry.Loss | None = None,
        mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        loss_function = self.loss if loss_function is None else loss_function
        if mask is not None:
            weights = step_weights(mask, y, sample_weight, self._class_weights)
            loss = loss_function(outputs, y, sample_weight=weights, mask=mask)
        elif self._class_weights is not None:
            index = y.view(-1) if y.ndim <= 1 or y.shape[-1] == 1 else y.argmax(-1)
            class_weight = self._class_weights[index.long()]
            sample_weight = class_weight if sample_weight is None else sample_weight * class_weight
            loss = loss_function(outputs, y, sample_weight=sample_weight)
        elif sample_weight is None:
            loss = loss_function(outputs, y)
        else:
            loss = loss_function(outputs, y, sample_weight=sample_weight)
        # Keras adds weight penalties to the reported loss in training and evaluation alike.
        for layer in self._regularized:
            penalty = layer.regularization_loss()
            if penalty is not None:  # None: an add_loss layer that added nothing this step
                loss = loss + penalty
        return loss


def check_input_shape(module: nn.Module, x: torch.Tensor) -> None:
    """Compare the data with the first layer's known input shape (Keras' input check)."""
    checker = getattr(module, "check_input", None)
    if checker is not None:  # a functional model checks each input against its Input
        checker(x)
        return
    stack = getattr(module, "layers", None)
    first = stack[0] if isinstance(stack, nn.ModuleList) and len(stack) else None
    if not isinstance(first, Layer):
        return
    # Only a declared input_shape binds: a model built on 7-step sequences takes 12-step ones
    # when its layers allow (Keras' behaviour); other mismatches fail at the dry run.
    expected = first.input_shape
    received = tuple(x.shape[1:])
    if expected is not None and not shape_matches(tuple(expected), received):
        raise ShapeError(
            f"the first layer ({first.name or type(first).__name__}) expects inputs of per-sample "
            f"shape {tuple(expected)}, received data of per-sample shape {received} (batch shape "
            f"{tuple(x.shape)}). Fix: reshape the data to {tuple(expected)}, or build the model "
            f"with input_shape={received}."
        )
