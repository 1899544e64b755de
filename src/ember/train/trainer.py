"""The training engine: one loop behind ``Model.fit``, ``Trainer.fit`` and (later) the ``ember`` command.

A *task* turns a batch into losses (``training_step``) and owns its metrics; the trainer owns the
loop: devices, precision, the optimizer step, gradient clipping, learning-rate schedules,
callbacks. It reads nothing from the device per step unless a callback asks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from ember import optimizers as optimizer_specs
from ember.data.batches import DeviceBatches, TensorBatches, as_batches, has_length
from ember.errors import ConfigError, DataError
from ember.layers.base import Layer, reset_states
from ember.train.callback import HOOKS, Callback, Logs, overrides
from ember.train.fast_step import gradient_clearer, optimizer_stepper
from ember.train.history import History
from ember.train.precision import autocast, check_precision, grad_scaler, resolve_device
from ember.train.progress import ProgressBar

Batches = TensorBatches | DeviceBatches


class Trainer:
    """Trains, evaluates and predicts with a task on one device.

    Args:
        task: what one step computes, e.g. ``ember.Supervised(module, loss, metrics)``.
        optimizer: a name (``"adam"``), an ``ember.optimizers`` spec, or a torch optimizer.
        epochs: how many epochs ``fit`` runs.
        callbacks: ``ember.callbacks`` objects (early stopping, checkpoints, logging ...).
        precision: ``"32"``, ``"bf16"`` or ``"16-mixed"`` (CUDA).
        compile: run the forward pass through ``torch.compile``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` ...

    Example:
        >>> import torch, ember
        >>> net = torch.nn.Linear(3, 2)
        >>> task = ember.Supervised(net, loss="sparse_categorical_crossentropy", from_logits=True)
        >>> trainer = ember.Trainer(task, optimizer="sgd", epochs=2, device="cpu")
        >>> x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
        >>> history = trainer.fit((x, y), verbose=0)
        >>> len(history.history["loss"])
        2
    """

    def __init__(
        self,
        task: Any,
        optimizer: Any = "adam",
        *,
        epochs: int = 1,
        callbacks: Sequence[Callback] | None = None,
        precision: str = "32",
        compile: bool = False,
        device: str | torch.device = "auto",
    ) -> None:
        if not hasattr(task, "training_step"):
            raise ConfigError(
                f"Trainer needs a task with training_step(batch), received "
                f"{type(task).__name__}. Fix: wrap a module as ember.Supervised(module, loss=...)."
            )
        if not isinstance(epochs, int) or epochs < 0:
            raise ConfigError(f"expected a non-negative integer, received epochs={epochs!r}")
        self.task = task
        self.model: nn.Module = task.module
        self.epochs = epochs
        self.callbacks = list(callbacks or [])
        self.precision = check_precision(precision)
        self.device = resolve_device(device)
        self.compile = compile
        self.optimizer_spec = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        if not getattr(task, "optimizes_itself", False):
            self.optimizer_spec = optimizer_specs.get(optimizer)
        self.stop_training = False
        # The ember Model driving this trainer, if any (ModelCheckpoint saves through it).
        self.keras_model: Any = None
        self.steps_per_epoch: int | None = None
        self.steps_done = 0
        self.global_step = 0
        self._records: list[tuple[dict[str, torch.Tensor], int]] = []
        self._compiled = False
        self._autocast = autocast(self.precision, self.device)
        self._scaler = grad_scaler(self.precision, self.device)
        self._stepping: tuple[Any, Any, Any] | None = None  # (optimizer, clear, step)

    # -- public API ---------------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        val: Any = None,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        verbose: int = 1,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
    ) -> History:
        """Train for ``self.epochs`` epochs; return the :class:`History`.

        ``train``/``val`` are anything :func:`ember.data.as_batches` accepts (arrays, tensors,
        ``(x, y)`` tuples, Datasets, DataLoaders, iterables of batches) or ready batches.
        """
        train_batches = self._batches(train, batch_size, shuffle)
        val_batches = None if val is None else self._batches(val, batch_size, False)
        epoch_steps = self._epoch_steps(train_batches, steps_per_epoch)
        self.steps_per_epoch = epoch_steps
        self._prepare(train_batches)
        history = History()
        # History after the user's callbacks, so it records what they add (e.g. learning_rate).
        callbacks = [*self.callbacks, history]
        if verbose:
            callbacks.append(ProgressBar(verbose))
        hooks = self._hooks(callbacks)
        self.stop_training = False
        self.model.train()
        self._call(hooks, "on_fit_start", {})
        stream = iter(train_batches) if steps_per_epoch else None
        for epoch in range(initial_epoch, self.epochs):
            self._call(hooks, "on_epoch_start", epoch, {})
            batches = train_batches if stream is None else itertools.islice(stream, epoch_steps)
            logs = self._train_epoch(batches, hooks)
            if val_batches is not None:
                train_steps = self.steps_done
                val_logs = self._evaluate_batches(val_batches)
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
                self.steps_done = train_steps  # callbacks see the epoch's training steps
                self.model.train()
            # The epoch's schedule step comes before the callbacks, so that a checkpoint written
            # at the end of the epoch holds the state the next epoch starts from.
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                self.scheduler.step()
            self._call(hooks, "on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        self._call(hooks, "on_fit_end", {})
        return history

    def evaluate(self, data: Any, *, batch_size: int = 32, verbose: int = 1) -> Logs:
        """Return the loss and metrics over ``data`` (as floats)."""
        batches = self._batches(data, batch_size, False)
        self.steps_per_epoch = self._epoch_steps(batches, None)
        self._prepare(batches, need_optimizer=False)
        callbacks = [*self.callbacks] + ([ProgressBar(verbose)] if verbose else [])
        hooks = self._hooks(callbacks)
        self._call(hooks, "on_evaluate_start", {})
        logs = self._evaluate_batches(batches)
        self._call(hooks, "on_evaluate_end", logs)
        return logs

    @torch.inference_mode()
    def predict(self, data: Any, *, batch_size: int = 32) -> torch.Tensor:
        """Run ``task.predict_step`` over ``data``; return the outputs concatenated."""
        batches = self._batches(data, batch_size, False)
        self._prepare(batches, need_optimizer=False)
        self.model.eval()
        outputs = []
        for batch in batches:
            with self._autocast or _NO_CONTEXT:
                outputs.append(self.task.predict_step(batch))
        if not outputs:
            raise DataError("predict received no batches. Fix: pass some data.")
        return torch.cat(outputs).float() if outputs[0].is_floating_point() else torch.cat(outputs)

    def running_logs(self) -> Logs:
        """Mean losses and metrics of the epoch so far (reads the device: call sparingly)."""
        logs = self._mean_records()
        metrics = getattr(self.task, "metrics", None)
        if metrics is not None and len(metrics):
            logs.update(metrics.compute())
        return logs

    # -- the loop -----------------------------------------------------------------------------
    def _train_epoch(self, batches: Iterable, hooks: dict[str, list]) -> Logs:
        task, optimizer, scaler = self.task, self.optimizer, self._scaler
        autocast_context = self._autocast
        manual = optimizer is None
        clip = self.optimizer_spec is not None and self.optimizer_spec.clips
        step_scheduler = self.scheduler if self.scheduler_interval == "step" else None
        params = [p for group in optimizer.param_groups for p in group["params"]] if clip else None
        clear_gradients, step_optimizer = self._step_functions()
        batch_start, batch_end = hooks["on_batch_start"], hooks["on_batch_end"]
        metrics = getattr(task, "metrics", None)
        if metrics is not None:
            metrics.reset()
        records = self._records = []
        self.steps_done = 0
        for step, batch in enumerate(batches):
            for callback in batch_start:
                callback.on_batch_start(step, {})
            if autocast_context is None:
                outputs = task.training_step(batch)
            else:
                with autocast_context:
                    outputs = task.training_step(batch)
            if not manual:
                loss = outputs["loss"]
                clear_gradients()
                if scaler is None:
                    loss.backward()
                    if clip:
                        optimizer_specs.clip_gradients(params, self.optimizer_spec)
                    step_optimizer()
                else:
                    scaler.scale(loss).backward()
                    if clip:
                        scaler.unscale_(optimizer)
                        optimizer_specs.clip_gradients(params, self.optimizer_spec)
                    scaler.step(optimizer)
                    scaler.update()
                if step_scheduler is not None:
                    step_scheduler.step()
            records.append(({k: v.detach() for k, v in outputs.items()}, len(batch[0])))
            self.steps_done = step + 1
            self.global_step += 1
            for callback in batch_end:
                callback.on_batch_end(step, outputs)
            if self.stop_training:
                break
        if not records:
            raise DataError("the training data produced no batches. Fix: pass some data.")
        logs = self._mean_records()
        if metrics is not None and len(metrics):
            logs.update(metrics.compute())
        return logs

    def _step_functions(self) -> tuple[Any, Any]:
        # Built once per optimizer (the fused step keeps its tensor lists between epochs).
        optimizer = self.optimizer
        if optimizer is None:
            return None, None
        if self._stepping is None or self._stepping[0] is not optimizer:
            self._stepping = (optimizer, gradient_clearer(optimizer), optimizer_stepper(optimizer))
        return self._stepping[1], self._stepping[2]

    @torch.inference_mode()
    def _evaluate_batches(self, batches: Iterable) -> Logs:
        self.model.eval()
        metrics = getattr(self.task, "metrics", None)
        if metrics is not None:
            metrics.reset()
        records = self._records = []
        self.steps_done = 0
        for batch in batches:
            with self._autocast or _NO_CONTEXT:
                outputs = self.task.validation_step(batch)
            records.append((outputs, len(batch[0])))
            self.steps_done += 1
        if not records:
            raise DataError("the evaluation data produced no batches. Fix: pass some data.")
        logs = self._mean_records()
        if metrics is not None and len(metrics):
            logs.update(metrics.compute())
        return logs

    def _mean_records(self) -> Logs:
        # One host read per logged value, weighted by batch size so that the mean is over samples.
        if not self._records:
            return {}
        sizes = torch.tensor([n for _, n in self._records], dtype=torch.float64)
        logs = {}
        for name in self._records[0][0]:
            values = torch.stack([r[name].float() for r, _ in self._records]).double().cpu()
            logs[name] = float((values * sizes).sum() / sizes.sum())
        return logs

    # -- setup --------------------------------------------------------------------------------
    def _batches(self, data: Any, batch_size: int, shuffle: bool) -> Batches:
        if isinstance(data, (TensorBatches, DeviceBatches)):
            return data
        return as_batches(data, batch_size=batch_size, shuffle=shuffle, device=self.device)

    def _epoch_steps(self, batches: Batches, steps_per_epoch: int | None) -> int | None:
        if steps_per_epoch is not None:
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ConfigError(
                    f"expected a positive integer, received steps_per_epoch={steps_per_epoch!r}"
                )
            return steps_per_epoch
        source = batches.source if isinstance(batches, DeviceBatches) else batches
        if isinstance(batches, DeviceBatches) and iter(source) is source:
            raise ConfigError(
                "the training data is a one-pass iterator (e.g. a generator): it would be used up "
                "after one epoch. Fix: pass steps_per_epoch=..., or a Dataset/DataLoader."
            )
        return len(batches) if has_length(source) else None

    def _prepare(self, batches: Batches, need_optimizer: bool = True) -> None:
        """Move the module to the device, build lazy layers, the optimizer and schedule once."""
        self.model.to(self.device)
        metrics = getattr(self.task, "metrics", None)
        if metrics is not None and hasattr(metrics, "to"):
            metrics.to(self.device)
        if isinstance(batches, TensorBatches):
            example = batches.tensors  # in-memory data is checked whole (every label, once)
        else:
            example = next(iter(batches))  # other data by its first batch
        setup = getattr(self.task, "setup", None)
        if setup is not None:
            setup(example, self.device)  # a Supervised task's dry run also builds lazy layers
        if _has_unbuilt_layers(self.model):
            build_module(self.model, example[0])
        if self.compile and not self._compiled:
            compile_task = getattr(self.task, "compile", None)
            compile_task() if compile_task else self.model.compile()
            self._compiled = True
        if need_optimizer and self.optimizer is None and self.optimizer_spec is not None:
            self.optimizer = self.optimizer_spec.build(self.model.parameters())
            schedule = getattr(self.optimizer_spec, "schedule", None)
            if schedule is not None:
                self.scheduler = schedule.build(
                    self.optimizer, self.steps_per_epoch or 1, max(self.epochs, 1)
                )

    @property
    def scheduler_interval(self) -> str | None:
        """``"step"`` or ``"epoch"`` for the optimizer's learning-rate schedule, else None."""
        if self.scheduler is None:
            return None
        return self.optimizer_spec.schedule.interval

    def _hooks(self, callbacks: list) -> dict[str, list]:
        for callback in callbacks:
            if hasattr(callback, "set_trainer"):
                callback.set_trainer(self)
            else:
                callback.trainer = self
        return {hook: [c for c in callbacks if overrides(c, hook)] for hook in HOOKS}

    @staticmethod
    def _call(hooks: dict[str, list], hook: str, *args: Any) -> None:
        for callback in hooks[hook]:
            getattr(callback, hook)(*args)


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_CONTEXT = _NullContext()


def _has_unbuilt_layers(module: nn.Module) -> bool:
    return any(
        (isinstance(m, Layer) and not m.built)
        or any(isinstance(p, nn.parameter.UninitializedParameter) for p in m.parameters(False))
        for m in module.modules()
    )


@torch.no_grad()
def build_module(module: nn.Module, example: torch.Tensor) -> None:
    """Create the parameters of lazy layers by running two samples through in eval mode."""
    was_training = module.training
    module.eval()
    try:
        module(example[:2])
    finally:
        module.train(was_training)
        reset_states(module)
