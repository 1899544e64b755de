"""ModelCheckpoint: save the model or its weights during training."""

from __future__ import annotations

import os
from pathlib import Path

from ember import checks
from ember.callbacks.monitoring import is_scalar, monitored_value, resolve_mode, to_float
from ember.errors import ConfigError, SaveError
from ember.saving import save_weights
from ember.train.callback import Callback, Logs


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
        self.mode = resolve_mode(mode, monitor)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch":
            save_freq = checks.positive_int("save_freq", save_freq)
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
            values = {k: to_float(v) if is_scalar(v) else v for k, v in (logs or {}).items()}
            self._save(self._epoch, batch, values)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch: int, batch: int | None, logs: Logs) -> None:
        path = self._format_path(epoch, batch, logs)
        if self.save_best_only:
            value = monitored_value(logs, self.monitor, "ModelCheckpoint(save_best_only=True)")
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
        # A model that saves itself whole (a Sequential: architecture and weights) does so.
        if not self.save_weights_only and not path.endswith(".safetensors"):
            if callable(getattr(self.model, "save", None)):
                self.model.save(path)
                return
        save_weights(self.model, path)
