"""Keras' callbacks for the ember engine: early stopping, checkpoints, LR schedules, logging.

Each is a plain :class:`Callback` with Keras 3's arguments and behaviour. Pass them to
``Model.fit(callbacks=[...])`` or ``Trainer(..., callbacks=[...])``. Epoch logs hold floats
(``loss``, ``accuracy``, ``val_loss`` ...); batch logs hold the step's tensors, and only the
callbacks that need a batch value (``TerminateOnNaN``, batch-level ``TensorBoard`` or
``ModelCheckpoint``) read it from the device.

Where Keras only warns (a monitored value missing from the logs, a bad ``mode``), ember raises
:class:`ember.errors.ConfigError` at the first epoch end, naming the logs that exist and the fix.

Example:
    >>> from ember.callbacks import EarlyStopping, CSVLogger
    >>> callbacks = [EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
    ...              CSVLogger("training.csv")]
"""

from __future__ import annotations

import csv
import inspect
import math
import numbers
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ember.errors import ConfigError, SaveError
from ember.train.callback import HOOKS, Callback, Logs
from ember.train.history import History

__all__ = [
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "CSVLogger",
    "TensorBoard",
    "TerminateOnNaN",
    "LambdaCallback",
]

# A monitored name containing one of these is maximised in mode="auto" (Keras' heuristic).
MAXIMISED_NAMES = ("acc", "auc", "precision", "recall", "f1", "r2")


# -- shared checks ------------------------------------------------------------------------------
def _resolve_mode(mode: str, monitor: str) -> str:
    """``"min"`` or ``"max"``: ``"auto"`` maximises accuracy-like names, minimises the rest."""
    if mode not in ("auto", "min", "max"):
        raise ConfigError(f"expected mode='auto', 'min' or 'max', received mode={mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(part in monitor.lower() for part in MAXIMISED_NAMES) else "min"


def _monitored(logs: Logs | None, monitor: str, owner: str) -> float:
    """The monitored value as a float, or a ConfigError naming the logs that exist."""
    logs = logs or {}
    if monitor not in logs:
        fix = (
            "pass validation data to fit (validation_data=...), or monitor='loss'"
            if monitor.startswith("val_")
            else "monitor one of the available names, e.g. monitor='loss'"
        )
        raise ConfigError(
            f"{owner} monitors {monitor!r}, which is not in the logs; available: "
            f"{sorted(logs)}. Fix: {fix}."
        )
    return float(logs[monitor])


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ConfigError(f"expected {kind} integer, received {name}={value!r}")
    return value


def _check_number(name: str, value: Any, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ConfigError(f"expected a number, received {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"expected {name} >= {minimum}, received {name}={value!r}")
    return float(value)


def _optimizer(trainer: Any, owner: str) -> torch.optim.Optimizer:
    """The trainer's single torch optimizer, which ``owner`` sets the learning rate of."""
    optimizer = getattr(trainer, "optimizer", None)
    if optimizer is None:
        raise ConfigError(
            f"{owner} needs the trainer's optimizer, but this task manages its own optimizers. "
            "Fix: schedule the learning rate inside the task."
        )
    if getattr(trainer, "scheduler", None) is not None:
        raise ConfigError(
            f"{owner} sets the learning rate, but the optimizer already has a schedule. "
            "Fix: use one of the two."
        )
    return optimizer


def _learning_rate(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):  # capturable / fused optimizers keep a tensor
            group["lr"].fill_(value)
        else:
            group["lr"] = value


# -- early stopping -----------------------------------------------------------------------------
class EarlyStopping(Callback):
    """Stop training when a monitored value has stopped improving.

    Args:
        monitor: the log to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        min_delta: a change smaller than this is not an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names, else min).
        baseline: training stops if the value has not beaten this after ``patience`` epochs.
        restore_best_weights: keep an in-memory copy of the best epoch's weights and load them
            when training ends.
        start_from_epoch: epochs to wait (warm-up) before watching for improvement.

    After ``fit``: ``stopped_epoch`` (0-based, 0 when training did not stop early), ``best`` (the
    best monitored value) and ``best_epoch`` (0-based).

    Example:
        >>> stop = EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
        >>> stop.mode
        'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        # Keras: the sign of min_delta is ignored; an improvement must beat best by |min_delta|.
        self.min_delta = abs(_check_number("min_delta", min_delta))
        self.patience = _check_int("patience", patience, 0)
        self.verbose = verbose
        self.baseline = None if baseline is None else _check_number("baseline", baseline)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = _check_int("start_from_epoch", start_from_epoch, 0)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def _is_improvement(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def _snapshot(self) -> dict[str, torch.Tensor]:
        return {name: t.detach().clone() for name, t in self.model.state_dict().items()}

    def on_fit_start(self, logs: Logs | None = None) -> None:
        self._reset()  # instances can be reused across fits, as in Keras

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self._snapshot(), epoch
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            # Patience restarts only once the value also beats the baseline.
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_fit_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)


# -- checkpoints --------------------------------------------------------------------------------
def _check_writable_folder(filepath: str) -> None:
    """Fail now, not after an epoch of training, if the checkpoint folder cannot be created."""
    folder = Path(filepath).parent
    while "{" in str(folder):  # a templated folder is created at save time; check its root
        folder = folder.parent
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SaveError(
            f"cannot create the checkpoint folder {str(folder)!r}: {str(existing)!r} is a file. "
            "Fix: choose another filepath."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SaveError(
            f"cannot write to {str(existing)!r} (for filepath={filepath!r}). "
            "Fix: choose a writable folder."
        )


class ModelCheckpoint(Callback):
    """Save the model or its weights every epoch (or every ``save_freq`` batches).

    Args:
        filepath: where to save; may hold format fields filled from the epoch (1-based) and the
            logs, e.g. ``"ckpt/model-{epoch:02d}-{val_loss:.2f}.safetensors"``.
        monitor: the log that decides what is "best" when ``save_best_only``.
        verbose: 1 prints each save.
        save_best_only: save only when ``monitor`` improves (a fixed ``filepath`` then always
            holds the best model).
        save_weights_only: save only the weights (safetensors), even if the model has ``save``.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_freq: ``"epoch"``, or an integer: save every that many batches.

    The full model is saved with the ember model's ``save`` (a folder) when there is one; a
    plain ``nn.Module``, ``save_weights_only=True`` or a path ending in ``.safetensors`` gives a
    weights file, written atomically by :func:`ember.saving.save_weights`.

    Example:
        >>> checkpoint = ModelCheckpoint("checkpoints/best.safetensors", save_best_only=True,
        ...                              save_weights_only=True)
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
    ) -> None:
        self.filepath = os.fspath(filepath)
        _check_writable_folder(self.filepath)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch":
            _check_int("save_freq", save_freq, 1)
        self.save_freq = save_freq
        self.best: float | None = None
        self._epoch = 0
        self._batches_since_save = 0

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            # Batch logs hold tensors: reading them is a device sync, once per save.
            values = {k: _float(v) if _is_scalar(v) else v for k, v in (logs or {}).items()}
            self._save(self._epoch, batch, values)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: Logs) -> None:
        path = self._format_path(epoch, batch, logs)
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint(save_best_only=True)")
            improved = self.best is None or (
                value < self.best if self.mode == "min" else value > self.best
            )
            if not improved:
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                previous = "none" if self.best is None else f"{self.best:.5f}"
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {previous} to {value:.5f}, "
                    f"saving model to {path}"
                )
            self.best = value
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._write(path)

    def _format_path(self, epoch: int, batch: int | None, logs: Logs) -> str:
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            names = "'epoch', 'batch'" if batch is not None else "'epoch'"
            raise ConfigError(
                f"cannot fill ModelCheckpoint filepath={self.filepath!r} ({error!r}); its fields "
                f"may be {names} and the logs: {sorted(logs)}. Fix: use those names, e.g. "
                "'{epoch:02d}'."
            ) from error

    def _write(self, path: str) -> None:
        # A ".safetensors" path names a weights file: never write a model folder under that name.
        if not self.save_weights_only and not path.endswith(".safetensors"):
            for owner in (getattr(self.trainer, "keras_model", None), self.model):
                if owner is not None and callable(getattr(owner, "save", None)):
                    owner.save(path)
                    return
        from ember.saving import save_weights

        save_weights(self.model, path)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() == 1


def _float(value: Any) -> float:
    """A Python float from a number or a one-element tensor (a device sync for a tensor)."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)


# -- learning rate ------------------------------------------------------------------------------
class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    ``epoch`` counts from 0 and ``lr`` is the current rate (Keras' signature; a one-argument
    ``schedule(epoch)`` works too). The rate is set on every parameter group of the trainer's
    optimizer, and recorded in the epoch logs as ``learning_rate``.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> scheduler = LearningRateScheduler(schedule)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise ConfigError(
                f"expected a function schedule(epoch, lr) -> lr, received schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_fit_start(self, logs: Logs | None = None) -> None:
        _optimizer(self.trainer, "LearningRateScheduler")

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self.trainer.optimizer
        current = _learning_rate(optimizer)
        value = self.schedule(epoch, current) if self._takes_lr else self.schedule(epoch)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ConfigError(
                f"the schedule must return a non-negative float, received {value!r} at epoch "
                f"{epoch}. Fix: return a number such as lr * 0.9."
            )
        _set_learning_rate(optimizer, float(value))
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {value}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.trainer.optimizer)


def _accepts_two_arguments(function: Callable) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a signature: assume Keras' form
        return True
    try:
        signature.bind(0, 0.1)
    except TypeError:
        return False
    return True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Keras' semantics (the rate drops after ``patience`` epochs without an improvement larger
    than ``min_delta``, then waits ``cooldown`` epochs), run by
    :class:`torch.optim.lr_scheduler.ReduceLROnPlateau`, which is built when ``fit`` starts.
    The rate used in each epoch is recorded in its logs as ``learning_rate``.

    Example:
        >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        factor = _check_number("factor", factor)
        if not 0 < factor < 1:
            raise ConfigError(
                f"expected 0 < factor < 1 (the rate is multiplied by it), received factor={factor}"
            )
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.factor = factor
        self.patience = _check_int("patience", patience, 0)
        self.verbose = verbose
        self.min_delta = _check_number("min_delta", min_delta, 0)
        self.cooldown = _check_int("cooldown", cooldown, 0)
        self.min_lr = _check_number("min_lr", min_lr, 0)
        self.scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None

    def on_fit_start(self, logs: Logs | None = None) -> None:
        # torch drops the rate once more than `patience` bad epochs are counted, and counts from
        # the epoch after the cooldown; Keras drops at `patience` bad epochs and counts the last
        # cooldown epoch. Shifting both by one gives Keras' schedule exactly.
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            _optimizer(self.trainer, "ReduceLROnPlateau"),
            mode=self.mode,
            factor=self.factor,
            patience=max(self.patience - 1, 0),
            threshold=self.min_delta,
            threshold_mode="abs",
            cooldown=max(self.cooldown - 1, 0),
            min_lr=self.min_lr,
        )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        optimizer = self.trainer.optimizer
        before = _learning_rate(optimizer)
        if logs is not None:
            logs["learning_rate"] = before
        self.scheduler.step(value)
        after = _learning_rate(optimizer)
        if after != before and self.verbose > 0:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {after}.")


# -- logging ------------------------------------------------------------------------------------
class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (Keras' format).

    The header is ``epoch`` (0-based, as in Keras) and the first epoch's log names, sorted;
    each row is flushed as it is written. With ``append=True`` an existing file keeps its
    rows and its header.

    Example:
        >>> logger = CSVLogger("training.csv", append=True)
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigError(f"expected a one-character separator, received {separator!r}")
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_fit_start(self, logs: Logs | None = None) -> None:
        path = Path(self.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.keys, self._writer = None, None
        existing_header: list[str] = []
        if self.append and path.exists():
            with open(path, newline="") as file:
                existing_header = next(csv.reader(file, delimiter=self.separator), [])
        self._file = open(path, "a" if self.append else "w", newline="")
        if existing_header:  # keep the old columns so that old and new rows line up
            self.keys = [name for name in existing_header if name != "epoch"]
            self._make_writer(write_header=False)

    def _make_writer(self, write_header: bool) -> None:
        self._writer = csv.DictWriter(
            self._file,
            fieldnames=["epoch", *self.keys],
            delimiter=self.separator,
            extrasaction="ignore",
            lineterminator="\n",
        )
        if write_header:
            self._writer.writeheader()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self.keys = sorted(logs)
            self._make_writer(write_header=True)
        row = {"epoch": epoch}
        row.update({name: logs.get(name, "NA") for name in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_fit_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


class TensorBoard(Callback):
    """Write the logs as TensorBoard scalars, laid out as Keras does.

    Training values go to ``log_dir/train`` and validation values to ``log_dir/validation``,
    both tagged ``epoch_<name>`` (``val_loss`` is ``epoch_loss`` in ``validation``) at step
    ``epoch``, plus ``epoch_learning_rate``. With ``update_freq="batch"`` or an integer ``N``,
    the batch losses are also written every ``N`` steps as ``batch_<name>`` (reading them is a
    device sync each time). View with ``tensorboard --logdir logs``.

    Example:
        >>> board = TensorBoard(log_dir="logs/run-1")
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", update_freq: str | int = "epoch"):
        self.log_dir = os.fspath(log_dir)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            _check_int("update_freq", update_freq, 1)
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            from torch.utils.tensorboard import SummaryWriter

            self._writers[name] = SummaryWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_fit_start(self, logs: Logs | None = None) -> None:
        self._writer("train")

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        step = self.trainer.global_step
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in (logs or {}).items():
            if _is_scalar(value) or isinstance(value, (int, float)):
                writer.add_scalar(f"batch_{name}", _float(value), step)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        train = {k: v for k, v in (logs or {}).items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        optimizer = getattr(self.trainer, "optimizer", None)
        if "learning_rate" not in train and optimizer is not None:
            train["learning_rate"] = _learning_rate(optimizer)
        for folder, values in (("train", train), ("validation", validation)):
            if not values:
                continue
            writer = self._writer(folder)
            for name, value in values.items():
                if isinstance(value, (int, float)) or _is_scalar(value):
                    writer.add_scalar(f"epoch_{name}", _float(value), epoch)
            writer.flush()

    def on_fit_end(self, logs: Logs | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


# -- small ones ---------------------------------------------------------------------------------
class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite.

    Reads the loss from the device after every batch (as Keras does), so add it only when
    you need it.

    Example:
        >>> callbacks = [TerminateOnNaN()]
    """

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(_float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.trainer.stop_training = True


# Keras' hook names -> ember's (``on_test_*`` fire in ``evaluate`` only, not in fit's validation).
KERAS_HOOKS = {
    "on_train_begin": "on_fit_start",
    "on_train_end": "on_fit_end",
    "on_epoch_begin": "on_epoch_start",
    "on_batch_begin": "on_batch_start",
    "on_train_batch_begin": "on_batch_start",
    "on_train_batch_end": "on_batch_end",
    "on_test_begin": "on_evaluate_start",
    "on_test_end": "on_evaluate_end",
}


class LambdaCallback(Callback):
    """A callback made of functions, with Keras' or ember's hook names.

    Keras' ``on_train_begin``, ``on_epoch_begin``, ``on_batch_begin`` ... map to ember's
    ``on_fit_start``, ``on_epoch_start``, ``on_batch_start`` ...; ember's names work as they are.
    Each function takes the hook's arguments: ``(epoch, logs)``, ``(batch, logs)`` or ``(logs)``.

    Example:
        >>> losses = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_batch_begin: Callable | None = None,
        on_batch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        **more: Callable,
    ) -> None:
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            **more,
        }
        for name, function in given.items():
            if function is None:
                continue
            hook = KERAS_HOOKS.get(name, name)
            if hook not in HOOKS:
                raise ConfigError(
                    f"LambdaCallback has no hook {name!r}. Fix: use one of "
                    f"{sorted(set(HOOKS) | set(KERAS_HOOKS))}."
                )
            if not callable(function):
                raise ConfigError(f"expected a function for {name}, received {function!r}")
            if hook in vars(self):
                raise ConfigError(
                    f"LambdaCallback received two functions for {hook} (one as {name}). "
                    "Fix: pass one."
                )
            # Set on the instance: the engine sees the hook as overridden and calls it.
            setattr(self, hook, function)
