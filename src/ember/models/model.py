"""``Model``: Keras' ``compile`` / ``fit`` / ``evaluate`` / ``predict`` for any ``torch.nn.Module``.

``Model`` is a front door to the one engine (:class:`ember.Trainer`): ``compile`` builds a
:class:`ember.Supervised` task and a trainer, ``fit`` hands them the data. Wrap any module with
``ember.Model(module)``, subclass it and write ``forward``, or use :class:`ember.Sequential`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import losses, saving
from ember import metrics as ember_metrics
from ember.data.batches import TensorBatches, as_batches, to_tensor
from ember.data.test_time import with_test_time_augmentation
from ember.errors import ConfigError, DataError, NotCompiledError
from ember.layers.freezing import is_trainable, set_trainable
from ember.models import fit_arguments
from ember.models.devices import device_of
from ember.models.lr_finder import find_learning_rate
from ember.models.naming import snake_case
from ember.models.summary import summarize
from ember.models.weights import get_weights, set_weights
from ember.nlp.text_inputs import TextEncoding, is_text_batch, text_encoding
from ember.tasks.supervised import Supervised
from ember.train.history import History
from ember.train.trainer import Trainer


class Model(nn.Module):
    """A Keras-style model around a network (``module``) or, for subclasses, around itself.

    Example:
        >>> import torch, ember
        >>> model = ember.Model(torch.nn.Linear(4, 3))
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"], from_logits=True, device="cpu")
        >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
        >>> history = model.fit(x, y, epochs=2, verbose=0)
        >>> sorted(history.history)
        ['accuracy', 'loss']
    """

    def __init__(self, module: nn.Module | None = None, *, name: str | None = None) -> None:
        super().__init__()
        if module is not None and not isinstance(module, nn.Module):
            raise ConfigError(
                f"Model wraps a torch.nn.Module, received {type(module).__name__}. "
                f"Fix: pass an nn.Module (or use ember.Sequential([...]) for a list of layers)."
            )
        self.module = module
        self.name = name or snake_case(type(self).__name__)
        self.trainer: Trainer | None = None
        self.task: Supervised | None = None
        self.history: History | None = None
        self.seen_input_shape: tuple[int, ...] | None = None
        self.text_encoding: TextEncoding | None = None
        self.compile_config: dict[str, Any] | None = None  # what compile() got, for saving

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.module is None:
            raise NotImplementedError(f"{type(self).__name__} must define forward(x)")
        return self.module(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor | None:
        """Outputs before a final softmax/sigmoid, or None when the model has none to skip."""
        return None

    def final_activation(self) -> str | None:
        """``"softmax"`` or ``"sigmoid"`` when the model ends in one (so the loss can fuse it)."""
        return None

    def ensure_built(self) -> None:
        """Create lazy weights when the input shape is known (Sequential overrides this)."""

    # -- compile ------------------------------------------------------------------------------
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Sequence[Any] | None = None,
        *,
        from_logits: bool = False,
        jit_compile: bool = False,
        precision: str = "32",
        device: str | torch.device = "auto",
        batch_transform: Any = None,
    ) -> None:
        """Choose optimizer, loss and metrics (Keras' ``compile``), plus device and precision.

        A final softmax (sigmoid) followed by a (binary) cross-entropy is computed from the
        logits, as one fused, numerically stable loss; ``predict`` still returns probabilities.
        ``from_logits=True`` says the network already outputs logits. ``batch_transform``
        (e.g. ``ember.data.MixUp(num_classes=10)``) mixes each training batch, never the
        validation or prediction ones (see :class:`ember.Supervised`).
        """
        if loss is None:
            raise ConfigError(
                "compile() needs a loss, e.g. loss='sparse_categorical_crossentropy' for integer "
                "class labels or loss='mse' for regression."
            )
        if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, Sequence)):
            raise ConfigError(
                f"metrics must be a list, received metrics={metrics!r}. Fix: metrics=[{metrics!r}]."
            )
        loss_fn = losses.get(loss)
        for metric in metrics or []:
            ember_metrics.get(metric)  # unknown names fail here, before any data arrives
        logits = None
        fused = losses.logits_version(loss_fn, self.final_activation())
        if fused is not None and not from_logits:
            loss_fn, logits = fused, self.logits
        self.task = Supervised(
            self.network,
            loss_fn,
            metrics,
            from_logits=from_logits,
            logits=logits,
            batch_transform=batch_transform,
        )
        self.trainer = Trainer(
            self.task, optimizer, precision=precision, compile=jit_compile, device=device
        )
        self.compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics}

    @property
    def network(self) -> nn.Module:
        """The module that is trained: the wrapped one, or the model itself."""
        return self if self.module is None else self.module

    @property
    def trainable(self) -> bool:
        """Keras' ``trainable``: whether any weight of the model trains (for a model without
        weights yet, the last value set; True at first).

        False freezes every weight (also those lazy layers build later) and holds the model's
        batch-norm layers in inference mode while frozen, as in Keras; True undoes both. The next
        ``fit`` sees the change and builds a new optimizer over the weights that train (Keras
        asks for ``compile()`` again; here the engine does it). For part of a model see
        :func:`ember.transfer.freeze`.

        Example:
            >>> import torch, ember
            >>> model = ember.Model(torch.nn.Linear(4, 2))
            >>> model.trainable = False
            >>> model.trainable, model.module.weight.requires_grad
            (False, False)
        """
        return is_trainable(self)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        set_trainable(self.modules(), bool(value), training=self.training)

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``: the order ``evaluate`` returns values in."""
        task = self._compiled("metrics_names")
        return ["loss"] + (task.metrics.names if task.metrics is not None else [])

    # -- fit / evaluate / predict -------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Mapping[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
    ) -> History:
        """Train for ``epochs`` epochs (Keras' ``fit``); returns and stores ``self.history``.

        ``x`` may be arrays or tensors (with ``y``), an ``(x, y)`` tuple, a torch ``Dataset``, a
        ``DataLoader`` or any iterable of ``(x, y)`` batches. ``validation_split`` holds out the
        *last* fraction of ``x``/``y`` before shuffling, as Keras does.
        """
        task = self._compiled("fit")
        trainer = self.trainer
        batch_size = fit_arguments.batch_size_or_default(batch_size)
        fit_arguments.check_epochs(epochs, initial_epoch)
        if validation_split and validation_data is not None:
            raise ConfigError(
                "pass either validation_split or validation_data, not both. "
                "Fix: drop validation_split."
            )
        if validation_split:
            (x, y, sample_weight), validation_data = fit_arguments.split_last(
                x, y, sample_weight, validation_split
            )
        if class_weight is not None:
            fit_arguments.check_class_weight(class_weight)
        task.class_weight = class_weight
        train = self._batches(x, y, batch_size, shuffle, sample_weight)
        val = None
        if validation_data is not None:
            val_x, val_y, val_weight = fit_arguments.unpack_validation(validation_data)
            val = self._batches(val_x, val_y, batch_size, False, val_weight)
        self.history = trainer.fit(
            train,
            val,
            epochs=epochs,
            callbacks=_with_model(callbacks, self),
            verbose=fit_arguments.verbosity(verbose),
            initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch,
        )
        return self.history

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        callbacks: Sequence[Any] | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics on ``x``/``y``: ``loss`` alone, ``[loss, *metrics]``, or a dict."""
        task = self._compiled("evaluate")
        data = self._batches(
            x, y, fit_arguments.batch_size_or_default(batch_size), False, sample_weight
        )
        logs = self.trainer.evaluate(
            data, verbose=fit_arguments.verbosity(verbose), callbacks=_with_model(callbacks, self)
        )
        if return_dict:
            return logs
        if task.metrics is not None:
            names = ["loss", *task.metrics.names]
        else:
            names = ["loss", *(name for name in logs if name != "loss")]
        values = [logs[name] for name in names if name in logs]
        return values[0] if len(values) == 1 else values

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int | str = 0, tta: Any = None
    ) -> Any:
        """Model outputs for ``x``: a numpy array for numpy input, else a tensor (on the CPU).

        ``x`` may be a list of strings when a tokenizer is attached (:meth:`set_tokenizer`).
        ``tta`` (test-time augmentation) averages the outputs over views of each batch: "flip"
        (the images and their mirror images, flipped along the width of (N, H, W, C)), or a
        list of view names and functions (see :func:`ember.data.with_test_time_augmentation`).
        The outputs are averaged as they are: probabilities for a model ending in softmax.

        Example:
            >>> import torch, ember
            >>> model = ember.Model(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)))
            >>> images = torch.rand(3, 2, 2, 1)  # (N, H, W, C)
            >>> expected = (model(images) + model(images.flip(2))) / 2
            >>> torch.allclose(model.predict(images, tta="flip"), expected.detach())
            True
        """
        as_numpy = isinstance(x, (np.ndarray, list))
        if is_text_batch(x):
            as_numpy = True  # like Keras: text in, numpy out
            if self.text_encoding is None:
                raise DataError(
                    "predict received text, but this model has no tokenizer. Fix: "
                    "model.set_tokenizer(tokenizer) with the tokenizer its training ids came from."
                )
            x = self.text_encoding.encode(x)
        trainer = self.trainer or self._inference_trainer()
        data = self._batches(
            x, None, fit_arguments.batch_size_or_default(batch_size), False, None, trainer
        )
        using = None if tta is None else with_test_time_augmentation(self.network, tta)
        outputs = trainer.predict(data, using=using).cpu()
        return outputs.numpy() if as_numpy else outputs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], np.ndarray):
            args = (to_tensor(args[0]).to(device_of(self)), *args[1:])
        return super().__call__(*args, **kwargs)

    def set_tokenizer(
        self, tokenizer: Any, *, length: int | None = None, truncation: bool = False
    ) -> None:
        """Let :meth:`predict` take strings, encoded by ``tokenizer`` (saved with the model).

        ``length`` pads every batch to that many ids (None: to the longest text). A text longer
        than ``length``, or than the model's context, is an error unless ``truncation=True``.
        A tokenizer with more ids than the model's embedding table is refused here.
        """
        self.ensure_built()
        self.text_encoding = text_encoding(
            self.network, tokenizer, length=length, truncation=truncation
        )

    @property
    def tokenizer(self) -> Any:
        """The tokenizer attached with :meth:`set_tokenizer`, or None."""
        return None if self.text_encoding is None else self.text_encoding.tokenizer

    # -- inspection and files -----------------------------------------------------------------
    def summary(self, input_shape: tuple[int, ...] | None = None, print_fn: Any = None) -> str:
        """Print (and return) a Keras-style table: layers, output shapes, parameter counts.

        ``input_shape`` (per sample) is needed only for a wrapped module that has not seen data.
        """
        return summarize(self, input_shape=input_shape, print_fn=print_fn)

    def count_params(self) -> int:
        """Number of parameters (the model must be built)."""
        self.ensure_built()
        saving.check_built(self.network, "count_params")
        return sum(p.numel() for p in self.network.parameters())

    def get_weights(self) -> list[np.ndarray]:
        """Every weight as a numpy array (Keras' ``get_weights``)."""
        self.ensure_built()
        return get_weights(self.network)

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Load arrays from :meth:`get_weights`; shapes are checked first."""
        self.ensure_built()
        set_weights(self.network, weights)

    def save_weights(self, path: str | Path) -> None:
        """Save the weights as one safetensors file (atomic)."""
        self.ensure_built()
        saving.save_weights(self.network, path)

    def load_weights(self, path: str | Path) -> None:
        """Load weights from :meth:`save_weights`; mismatched names or shapes raise first."""
        self.ensure_built()
        saving.load_weights(self.network, path)

    def lr_find(self, x: Any, y: Any = None, **kwargs: Any) -> Any:
        """Run the learning-rate range test (:func:`ember.models.lr_finder.find_learning_rate`)."""
        self._compiled("lr_find")
        data = self._batches(
            x, y, fit_arguments.batch_size_or_default(kwargs.pop("batch_size", None)), True, None
        )
        return find_learning_rate(self.trainer, data, **kwargs)

    # -- helpers ------------------------------------------------------------------------------
    def _compiled(self, action: str) -> Supervised:
        if self.task is None or self.trainer is None:
            raise NotCompiledError(
                f"call model.compile(optimizer=..., loss=...) before {action}(). "
                f"Example: model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                f"metrics=['accuracy'])"
            )
        return self.task

    def _inference_trainer(self) -> Trainer:
        task = Supervised(self.network, "mse")
        return Trainer(task, device=device_of(self))

    def _batches(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        shuffle: bool,
        sample_weight: Any,
        trainer: Trainer | None = None,
    ) -> Any:
        if x is None:
            raise DataError("no data: pass x (and y). Example: model.fit(x_train, y_train)")
        device = (trainer or self.trainer).device
        batches = as_batches(
            x, y, batch_size=batch_size, shuffle=shuffle, device=device, sample_weight=sample_weight
        )
        if isinstance(batches, TensorBatches):
            self.seen_input_shape = tuple(batches.tensors[0].shape[1:])  # for summary()
        return batches


def _with_model(callbacks: Sequence[Any] | None, model: Model) -> list[Any]:
    """``callbacks``, each told the Keras model it serves (``callback.set_model``), as in Keras:
    a ``ModelCheckpoint`` then saves the whole model, not only the network's weights."""
    callbacks = list(callbacks or [])
    for callback in callbacks:
        if hasattr(callback, "set_model"):
            callback.set_model(model)
    return callbacks
