"""The training engine: one loop behind ``Model.fit``, ``Trainer.fit`` and the ``ember`` command.

A *task* (:mod:`ember.train.task`) turns a batch into named losses; the trainer owns the loop:
devices, precision, every backward pass and optimizer step (:mod:`ember.train.stepping`),
gradient clipping, learning-rate schedules, callbacks, and its own state
(:meth:`Trainer.state_dict`). It reads nothing from the device per step unless a callback asks.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember import optimizers as optimizer_specs
from ember.data.batches import DeviceBatches, TensorBatches, as_batches, is_ready
from ember.data.structure import num_samples
from ember.errors import ConfigError, DataError
from ember.seeding import random_state, set_random_state
from ember.train.batch_logs import RunningLogs
from ember.train.callback import Callback, Logs
from ember.train.distributed import main_only, split_over, start_processes, synced_logs
from ember.train.distributed_step import distribute
from ember.train.epochs import epoch_steps
from ember.train.history import History
from ember.train.hooks import attach, call
from ember.train.lazy_layers import build_module, has_unbuilt_layers
from ember.train.precision import autocast, check_precision, grad_scaler
from ember.train.predicting import predict_batches
from ember.train.records import Records, epoch_logs
from ember.train.stepping import ObjectiveStep, build_steps, parameters_changed, training_step
from ember.train.task import Outputs, Task

Batches = TensorBatches | DeviceBatches


class Trainer:
    """Trains, evaluates and predicts with a task on one device.

    Args:
        task: an :class:`ember.train.Task`, e.g. ``ember.Supervised(module, loss, metrics)``.
        optimizer: a name (``"adam"``), an ``ember.optimizers`` spec, or a torch optimizer: the
            optimizer of every objective that names none.
        epochs: how many epochs ``fit`` runs when its ``epochs`` is not given.
        callbacks: callbacks for every ``fit``/``evaluate`` (``fit``'s own come after them).
        precision: ``"32"``, ``"bf16"`` (``"bf16-mixed"``) or ``"16-mixed"`` (CUDA).
        compile: run the forward pass through ``torch.compile``.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` ...
        devices, strategy: how many processes train (``"auto"``: those ``torchrun`` started, else
            1) and how, ``"ddp"`` or ``"fsdp"`` (docs/distributed.md); ``batch_size`` is global.

    Example:
        >>> import torch, ember
        >>> net = torch.nn.Linear(3, 2)
        >>> task = ember.Supervised(net, loss="sparse_categorical_crossentropy", from_logits=True)
        >>> trainer = ember.Trainer(task, optimizer="sgd", device="cpu")
        >>> x, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
        >>> history = trainer.fit((x, y), epochs=2, verbose=0)
        >>> len(history.history["loss"]), trainer.global_step
        (2, 4)
    """

    def __init__(
        self,
        task: Task,
        optimizer: Any = "adam",
        *,
        epochs: int = 1,
        callbacks: Sequence[Callback] | None = None,
        precision: str = "32",
        compile: bool = False,
        device: str | torch.device = "auto",
        devices: int | str = "auto",
        strategy: str = "ddp",
    ) -> None:
        if not isinstance(task, Task):
            raise ConfigError(
                f"Trainer needs a task (an ember.train.Task), received {type(task).__name__}. "
                f"Fix: wrap a module as ember.Supervised(module, loss=...), or subclass "
                f"ember.train.Task and write training_step(batch) (see docs/architecture.md)."
            )
        self.task = task
        self.model: nn.Module = task.module
        self.default_epochs = checks.non_negative_int("epochs", epochs)
        self.default_callbacks = tuple(callbacks or ())
        self.precision = check_precision(precision)
        self.processes, self.device = start_processes(devices, strategy, device)  # None: alone
        self.compile = compile
        self.optimizer_spec = optimizer_specs.get(optimizer)
        self.stop_training = False
        self.steps_per_epoch: int | None = None
        self.steps_done = 0  # steps of the current epoch (or evaluation) so far
        self.global_step = 0  # training steps taken, over every fit
        self.epoch = 0  # epochs finished, over every fit
        self._epochs = self.default_epochs  # of the fit running now
        self._steps: list[ObjectiveStep] = []
        self._stepped = task  # what the steps call: the task, or its DDP/FSDP wrapper
        self._pending_state: dict[str, Any] | None = None
        self._records: Records = []
        self._batch_step: Any = None  # train_on_batch's step, once built
        self._first_batch: Any = None
        self._compiled = False
        self._autocast = autocast(self.precision, self.device)
        self._scaler = grad_scaler(self.precision, self.device)

    # -- what callbacks and other modules read ------------------------------------------------
    @property
    def epochs(self) -> int:
        """Epochs of the ``fit`` running now (the ``epochs`` default outside one)."""
        return self._epochs

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Each objective's optimizer by loss name (empty until ``fit`` builds them)."""
        return {step.objective.loss: step.optimizer for step in self._steps}

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The (first) objective's optimizer, or None before ``fit`` builds it."""
        return self._steps[0].optimizer if self._steps else None

    @property
    def scheduler(self) -> Any:
        """The (first) objective's learning-rate scheduler, or None."""
        return self._steps[0].scheduler if self._steps else None

    # -- public API ---------------------------------------------------------------------------
    def fit(
        self,
        train: Any,
        val: Any = None,
        *,
        epochs: int | None = None,
        callbacks: Sequence[Callback] | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        verbose: int = 1,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
    ) -> History:
        """Train until epoch ``epochs`` (counting from 0, starting at ``initial_epoch``).

        ``train``/``val`` are anything :func:`ember.data.as_batches` accepts (arrays, tensors,
        ``(x, y)`` tuples, Datasets, DataLoaders, iterables of batches) or ready batches.
        ``callbacks`` run after the trainer's own; the :class:`History` is returned.

        The optimizers (and schedules) are built by the first ``fit`` over the parameters that
        train (``requires_grad``); later fits continue with them, unless the set of trainable
        parameters (or their ``lr_scale``) has changed since, e.g. after
        :func:`ember.transfer.freeze` or ``model.trainable = False``: then this fit builds new
        ones over the parameters that train now (Keras asks for a new ``compile()`` there).
        """
        epochs = (
            self.default_epochs if epochs is None else checks.non_negative_int("epochs", epochs)
        )
        verbose = main_only(verbose, self.processes)  # only the main process prints
        train_batches = self._batches(train, batch_size, shuffle, "train")
        val_batches = None if val is None else self._batches(val, batch_size, False, "val")
        steps = epoch_steps(train_batches, steps_per_epoch)
        self.steps_per_epoch = steps
        self._epochs = epochs
        self._prepare(train_batches, need_optimizer=True)
        history = History()
        # History after the user's callbacks, so it records what they add (e.g. learning_rate).
        hooks = attach([*self.default_callbacks, *(callbacks or ()), history], self, verbose)
        self.stop_training = False
        self.model.train()
        call(hooks, "on_fit_start", {})
        logs: Logs = {}  # the last epoch's, for on_fit_end (as Keras' on_train_end)
        stream = iter(train_batches) if steps_per_epoch else None
        for epoch in range(initial_epoch, epochs):
            call(hooks, "on_epoch_start", epoch, {})
            batches = train_batches if stream is None else itertools.islice(stream, steps)
            logs = self._train_epoch(batches, hooks)
            if val_batches is not None:
                train_steps = self.steps_done
                val_logs = self._evaluate_batches(val_batches, hooks)
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
                self.steps_done = train_steps  # callbacks see the epoch's training steps
                self.model.train()
            # The epoch's schedule step comes before the callbacks, so that a checkpoint written
            # at the end of the epoch holds the state the next epoch starts from.
            for objective in self._steps:
                if objective.interval == "epoch":
                    objective.scheduler.step()
            self.epoch = epoch + 1
            call(hooks, "on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        call(hooks, "on_fit_end", logs)
        return history

    def evaluate(
        self,
        data: Any,
        *,
        batch_size: int = 32,
        verbose: int = 1,
        callbacks: Sequence[Callback] | None = None,
    ) -> Logs:
        """Return the loss and metrics over ``data`` (as floats)."""
        batches = self._batches(data, batch_size, False)
        self.steps_per_epoch = epoch_steps(batches, None)
        self._prepare(batches)
        verbose = main_only(verbose, self.processes)
        hooks = attach([*self.default_callbacks, *(callbacks or ())], self, verbose)
        return self._evaluate_batches(batches, hooks)

    @torch.inference_mode()
    def predict(
        self, data: Any, *, batch_size: int = 32, using: Any = None, callbacks: Any = None
    ) -> torch.Tensor:
        """Outputs over ``data``, concatenated: ``task.predict_step(batch)`` per batch, or
        ``using(inputs)`` when given (e.g. a test-time-augmented prediction), in eval mode.
        ``callbacks``' predict hooks run around it (each batch's outputs in ``logs``)."""
        batches = self._batches(data, batch_size, False)
        self._prepare(batches)
        self.model.eval()
        hooks = attach(callbacks or (), self, 0)
        return predict_batches(self.task, batches, self._autocast, using, hooks)

    def train_on_batch(self, batch: Any) -> Outputs:
        """One training step on one batch, outside ``fit``: every objective due, the schedule,
        the step counter. Returns the step's outputs (detached), as Keras' ``train_on_batch``.

        Example:
            >>> import torch, ember
            >>> task = ember.Supervised(torch.nn.Linear(2, 1), "mse")
            >>> trainer = ember.Trainer(task, "sgd", device="cpu")
            >>> sorted(trainer.train_on_batch((torch.randn(4, 2), torch.randn(4, 1))))
            ['loss']
        """
        if self._batch_step is not None and is_ready(batch, self.device):
            # Built already, and a tuple of tensors on the device: straight to the step (an
            # agent's loop calls this thousands of times; see `build`).
            if not self.model.training:  # train() walks every submodule: only when needed
                self.model.train()
            outputs = self._batch_step(batch, self.global_step)
        else:
            self.build(batch)
            self.model.train()
            outputs = self._batch_step(self._first_batch, self.global_step)
        self.global_step += 1
        return {name: value.detach() for name, value in outputs.items()}

    def build(self, batch: Any) -> None:
        """Set the task up on ``batch`` and build the optimizers now, before any step.

        ``train_on_batch`` does this on its first call; an agent calls it first so that a
        checkpoint's :meth:`load_state_dict` applies at once. Later ``train_on_batch`` calls with
        a tuple of tensors on the trainer's device skip these checks (call ``build`` again
        after freezing or unfreezing weights).
        """
        if isinstance(batch, (tuple, list)) and len(batch) == 1:
            batch = batch[0]  # (x,): the inputs alone
        size = len(batch[0]) if isinstance(batch, (tuple, list)) else len(batch)
        if isinstance(batch, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in batch):
            # any number of tensors (a replayed transition has five), kept as they are
            batches: Batches = TensorBatches([t.to(self.device) for t in batch], size, False)
        else:
            batches = self._batches(tuple(batch) if isinstance(batch, list) else batch, size, False)
        self._prepare(batches, need_optimizer=True)
        self._first_batch = next(iter(batches))
        self._batch_step = training_step(self._stepped, self._steps, self._autocast, self._scaler)

    def running_logs(self) -> Logs:
        """Mean losses and metrics of the epoch so far (reads the device: call sparingly)."""
        return epoch_logs(self._records, self.task.metrics)

    # -- the engine's own state ---------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training exactly: the step and epoch counters, each
        objective's optimizer and schedule, the grad scaler, the task's own state and every
        global random number generator. The module's weights are its own ``state_dict``.
        """
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "objectives": {step.objective.loss: step.state_dict() for step in self._steps},
            "scaler": None if self._scaler is None else self._scaler.state_dict(),
            "task": self.task.state_dict(),
            "rng": random_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; before ``fit`` has built the optimizers, it is applied
        when they are built, just before the first epoch."""
        if self._steps:
            self._restore(state)
        else:
            self._pending_state = state

    def _restore(self, state: dict[str, Any]) -> None:
        self.epoch = int(state.get("epoch", self.epoch))
        self.global_step = int(state["global_step"])
        objectives = state.get("objectives")
        if objectives is None:  # a checkpoint from before objectives: one optimizer
            first = self._steps[0].objective.loss
            objectives = {first: {"optimizer": state["optimizer"], "scheduler": state["scheduler"]}}
        for step in self._steps:
            if step.objective.loss in objectives:
                step.load_state_dict(objectives[step.objective.loss])
        if state.get("scaler") is not None and self._scaler is not None:
            self._scaler.load_state_dict(state["scaler"])
        if state.get("task") is not None:
            self.task.load_state_dict(state["task"])
        set_random_state(state["rng"])
        self._pending_state = None

    # -- the loop -----------------------------------------------------------------------------
    def _train_epoch(self, batches: Iterable, hooks: dict[str, list]) -> Logs:
        step = training_step(self._stepped, self._steps, self._autocast, self._scaler)
        batch_start = hooks["on_batch_start"]
        running = RunningLogs(self.task.metrics, hooks["on_batch_end"], hooks["on_train_batch_end"])
        records = self._records = running.records  # a new epoch (RunningLogs reset the metrics)
        self.steps_done = 0
        for index, batch in enumerate(batches):
            for hook in batch_start:
                hook(index, {})
            outputs = step(batch, self.global_step)
            records.append(({k: v.detach() for k, v in outputs.items()}, num_samples(batch[0])))
            self.steps_done = index + 1
            self.global_step += 1
            if running.hooks:
                running.end_batch(index, outputs)
            if self.stop_training:
                break
        if not records:
            raise DataError("the training data produced no batches. Fix: pass some data.")
        return synced_logs(records, self.task.metrics, self.processes)

    def _evaluate_batches(self, batches: Iterable, hooks: dict[str, list]) -> Logs:
        call(hooks, "on_evaluate_start", {})  # outside inference mode, as Keras' on_test_begin
        logs = self._evaluate_epoch(batches, hooks)
        call(hooks, "on_evaluate_end", logs)
        return logs

    @torch.inference_mode()
    def _evaluate_epoch(self, batches: Iterable, hooks: dict[str, list]) -> Logs:
        self.model.eval()
        batch_start, batch_end = hooks["on_evaluate_batch_start"], hooks["on_evaluate_batch_end"]
        running = RunningLogs(self.task.metrics, batch_end, hooks["on_test_batch_end"])
        records = self._records = running.records
        self.steps_done = 0
        for index, batch in enumerate(batches):
            for hook in batch_start:
                hook(index, {})
            with self._autocast or contextlib.nullcontext():
                outputs = self.task.validation_step(batch)
            records.append((outputs, num_samples(batch[0])))
            self.steps_done += 1
            if running.hooks:
                running.end_batch(index, outputs)
        if not records:
            raise DataError("the evaluation data produced no batches. Fix: pass some data.")
        return synced_logs(records, self.task.metrics, split_over(batches, self.processes))

    # -- setup --------------------------------------------------------------------------------
    def _batches(self, data: Any, batch_size: int, shuffle: bool, split: str = "") -> Batches:
        if not isinstance(data, (TensorBatches, DeviceBatches)):
            data = as_batches(data, batch_size=batch_size, shuffle=shuffle, device=self.device)
        if not split or self.processes is None:
            return data
        return self.processes.shard(data, split, lambda: self.epoch)  # fit's: each its part

    def _prepare(self, batches: Batches, need_optimizer: bool = False) -> None:
        """Move the module to the device, set the task up, build the optimizers once."""
        self.model.to(self.device)
        metrics = self.task.metrics
        if metrics is not None and hasattr(metrics, "to"):
            metrics.to(self.device)
        if isinstance(batches, TensorBatches):
            example = batches.tensors  # in-memory data is checked whole (every label, once)
        else:
            example = next(iter(batches))  # other data by its first batch
        self.task.setup(example, self.device)  # a Supervised task's dry run builds lazy layers
        if has_unbuilt_layers(self.model):
            build_module(self.model, example[0])
        if self.compile and not self._compiled:
            self.task.compile()
            self._compiled = True
        if need_optimizer and self._steps and parameters_changed(self.task, self._steps):
            # Weights were frozen or unfrozen since the optimizers were built: new ones for
            # this fit (where Keras asks for compile() again after changing `trainable`).
            self._steps = []
        if need_optimizer and not self._steps:
            self._stepped = distribute(self.task, self.processes)  # FSDP shards before
            self._steps = build_steps(
                self.task, self.optimizer_spec, self.steps_per_epoch, self._epochs
            )
            self._batch_step = None  # built over the old optimizers
            if self._pending_state is not None:
                self._restore(self._pending_state)
