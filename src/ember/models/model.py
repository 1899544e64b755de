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

from ember import saving
from ember.data.batches import to_tensor
from ember.data.structure import is_array_structure, map_structure
from ember.errors import ConfigError
from ember.layers.base import call_in_mode
from ember.layers.symbolic import call_symbolic, is_symbolic
from ember.layers.weight_arrays import get_weights, set_weights
from ember.models import fit_arguments, keras_attributes, keras_steps, summary
from ember.models.call_arguments import (
    build_with_zeros,
    functional_subclass,
    takes_training,
    with_model,
)
from ember.models.compiling import build_task
from ember.models.devices import device_of
from ember.models.lr_finder import find_learning_rate
from ember.models.naming import snake_case
from ember.models.prediction import predict_outputs
from ember.models.summary import summarize
from ember.nlp.text_inputs import TextEncoding, text_encoding
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

    # ``Model(inputs, outputs)`` makes a functional model: the class registers itself here when
    # ember.models.functional is imported (it subclasses Model, so Model cannot import it).
    functional_class: type | None = None
    # Keras' own files (``.keras``, ``.weights.h5``): ember.models.keras_files registers its
    # "save", "save_weights" and "load_weights" here when imported (it builds Sequential and
    # functional models, which import this module, so this module cannot import it).
    keras_files: dict[str, Any] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        graph = (*args[:2], kwargs.get("inputs"), kwargs.get("outputs"))
        drawn = sum(is_symbolic(part) for part in graph) >= 2  # inputs and outputs
        if cls is Model and (drawn or is_symbolic(args[:1]) or len(args) == 2):
            return super().__new__(Model.functional_class)
        if drawn and not issubclass(cls, Model.functional_class):
            # Keras' "functional subclass": CustomModel(inputs, outputs) with train_step etc.
            return super().__new__(functional_subclass(cls, Model.functional_class))
        return super().__new__(cls)

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

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.module is not None:
            return self.module(*args, **kwargs)
        call = getattr(self, "call", None)
        if call is None:
            raise ConfigError(
                f"{type(self).__name__} subclasses ember.Model but defines neither call() nor "
                f"forward(), so it computes nothing. Fix: define call(self, inputs, "
                f"training=None) returning the outputs (Keras' way) or forward(self, x)."
            )
        if "training" not in kwargs and takes_training(type(self)):
            kwargs["training"] = self.training  # Keras passes training=True inside fit
        outputs = call(*args, **kwargs)
        if outputs is None:
            raise ConfigError(
                f"{type(self).__name__}.call() returned nothing (None). Fix: return the "
                f"output tensor(s) at the end of call()."
            )
        return outputs

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
        loss_weights: Any = None,
    ) -> None:
        """Choose optimizer, loss and metrics (Keras' ``compile``), plus device and precision.

        A final softmax (sigmoid) followed by a (binary) cross-entropy is computed from the
        logits, as one fused, numerically stable loss; ``predict`` still returns probabilities.
        ``from_logits=True`` says the network already outputs logits. ``batch_transform``
        (e.g. ``ember.data.MixUp(num_classes=10)``) mixes each training batch, never the
        validation or prediction ones (see :class:`ember.Supervised`).

        A model with several outputs takes one loss per output (a list in the outputs' order
        or a dict keyed by output name), ``loss_weights`` the same way, and ``metrics`` for all
        outputs or per output (see :class:`ember.tasks.MultiOutput`).
        """
        self.task = build_task(
            self,
            loss,
            metrics,
            from_logits=from_logits,
            batch_transform=batch_transform,
            loss_weights=loss_weights,
            custom_train=type(self).train_step is not Model.train_step,
            custom_test=type(self).test_step is not Model.test_step,
        )
        self.trainer = Trainer(
            self.task, optimizer, precision=precision, compile=jit_compile, device=device
        )
        self.compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics}
        if loss_weights is not None:
            self.compile_config["loss_weights"] = loss_weights

    @property
    def network(self) -> nn.Module:
        """The module that is trained: the wrapped one, or the model itself."""
        return self if self.module is None else self.module

    # Keras' attributes (ember.models.keras_attributes)
    trainable = keras_attributes.trainable
    stop_training = keras_attributes.stop_training
    optimizer = keras_attributes.optimizer
    weights = keras_attributes.weights
    trainable_weights = keras_attributes.trainable_weights
    non_trainable_weights = keras_attributes.non_trainable_weights

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
            callbacks=with_model(callbacks, self),
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
            data, verbose=fit_arguments.verbosity(verbose), callbacks=with_model(callbacks, self)
        )
        return logs if return_dict else keras_attributes.evaluation_values(task, logs)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = 0,
        tta: Any = None,
        callbacks: Sequence[Any] | None = None,
    ) -> Any:
        """Model outputs for ``x``: a numpy array for numpy input, else a tensor (on the CPU).

        ``x`` may be a list of strings when a tokenizer is attached (:meth:`set_tokenizer`).
        ``tta`` (test-time augmentation) averages the outputs over views of each batch: "flip"
        (the images and their mirror images, flipped along the width of (N, H, W, C)), or a
        list of view names and functions (see :func:`ember.data.with_test_time_augmentation`).
        The outputs are averaged as they are: probabilities for a model ending in softmax.
        ``callbacks``' ``on_predict_begin``/``on_predict_end`` run around the prediction.

        Example:
            >>> import torch, ember
            >>> model = ember.Model(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)))
            >>> images = torch.rand(3, 2, 2, 1)  # (N, H, W, C)
            >>> expected = (model(images) + model(images.flip(2))) / 2
            >>> torch.allclose(model.predict(images, tta="flip"), expected.detach())
            True
        """
        return predict_outputs(self, x, batch_size, tta, callbacks)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and (isinstance(args[0], np.ndarray) or is_array_structure(args[0])):
            device = device_of(self)
            args = (map_structure(lambda a: to_tensor(a).to(device), args[0]), *args[1:])
        elif is_symbolic((args, kwargs)):
            return call_symbolic(self, args, kwargs)  # a model used as a layer of another
        if "training" in kwargs:
            # Keras' training= reaches every layer: the whole model runs in that mode.
            training = kwargs.pop("training")
            if takes_training(type(self)):
                kwargs["training"] = self.training if training is None else bool(training)
            return call_in_mode(self, training, args, kwargs)
        return super().__call__(*args, **kwargs)

    def build(self, input_shape: Any) -> None:
        """Create lazy weights for inputs of ``input_shape`` (Keras' ``build``).

        ``(None, 28, 28)`` (Keras' form: the batch size first, None) and ``(28, 28)`` (the
        per-sample shape) mean the same. A list of shapes builds a model with several inputs.
        """
        build_with_zeros(self, input_shape)

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
        """Number of weights as Keras counts them: trainable and not, with statistics such as
        Normalization's mean and variance (the model must be built)."""
        self.ensure_built()
        saving.check_built(self.network, "count_params")
        return sum(summary.count(self.network))

    def get_weights(self) -> list[np.ndarray]:
        """Every weight as a numpy array, in Keras' order and layouts (Keras' ``get_weights``)."""
        self.ensure_built()
        return get_weights(self.network)

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Load arrays in Keras' order and layouts (this model's :meth:`get_weights`, or those of
        the same model built in Keras); every shape is checked first."""
        self.ensure_built()
        set_weights(self.network, weights)

    def save_weights(self, path: str | Path) -> None:
        """Save the weights as one safetensors file (atomic); a name ending in ``.weights.h5``
        writes Keras' weights file instead (Keras' layouts, which Keras' ``load_weights`` reads)."""
        self.ensure_built()
        if str(path).endswith(".weights.h5"):
            self.keras_files["save_weights"](self, path)
            return
        saving.save_weights(self.network, path)

    def load_weights(self, path: str | Path) -> None:
        """Load weights from :meth:`save_weights`, or a Keras ``.weights.h5`` file (Keras' or
        ember's); mismatched names or shapes raise first."""
        self.ensure_built()
        if str(path).endswith(".weights.h5"):
            self.keras_files["load_weights"](self, path)
            return
        saving.load_weights(self.network, path)

    def lr_find(self, x: Any, y: Any = None, **kwargs: Any) -> Any:
        """Run the learning-rate range test (:func:`ember.models.lr_finder.find_learning_rate`)."""
        self._compiled("lr_find")
        data = self._batches(
            x, y, fit_arguments.batch_size_or_default(kwargs.pop("batch_size", None)), True, None
        )
        return find_learning_rate(self.trainer, data, **kwargs)

    # -- Keras' hooks for customising fit (ember.models.keras_steps) -------------------------
    train_step = keras_steps.train_step
    test_step = keras_steps.test_step
    compute_loss = keras_steps.compute_loss
    compute_metrics = keras_steps.compute_metrics

    # -- helpers ------------------------------------------------------------------------------
    def _compiled(self, action: str) -> Supervised:
        return keras_steps.compiled_task(self, action)

    def _batches(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        shuffle: bool,
        sample_weight: Any,
    ) -> Any:
        device = self.trainer.device
        return fit_arguments.batches_for(self, x, y, batch_size, shuffle, sample_weight, device)
