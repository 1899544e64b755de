"""The base of ember's Keras-style layers: lazy input shapes, a fused activation, a saved config.

A layer creates its parameters in :meth:`Layer.build` the first time it sees an input, so users
write ``Dense(128)`` without an input size, as in Keras. Everything else is a plain ``nn.Module``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import activations
from ember.data.batches import to_tensor
from ember.errors import ShapeError
from ember.layers import constraints, initializers, regularizers
from ember.layers.freezing import apply_settings, is_trainable, set_trainable
from ember.layers.symbolic import as_torch_dtype, call_symbolic, is_symbolic
from ember.layers.variables import Variable


class Layer(nn.Module):
    """Base class for Keras-style layers.

    Subclasses implement :meth:`build` (create parameters from the per-sample input shape) and
    :meth:`call` (the computation *before* the activation). ``forward`` builds on first use and
    applies ``self.activation``; models use :meth:`call` directly to get logits (see
    ``Sequential.logits``), which is how softmax + cross-entropy is computed stably.

    Constructor arguments are recorded automatically, so :meth:`get_config` can rebuild the layer:

        >>> from ember import layers
        >>> layers.Dense(4, activation="relu").get_config()["units"]
        4
    """

    # What the layer takes as input when it comes first: floats, or token ids for an Embedding.
    input_dtype: torch.dtype = torch.float32

    # -- masks (Keras' masking) -------------------------------------------------------------------
    # A mask is a boolean (N, steps) tensor, True at real steps and False at padding. It starts
    # at a layer whose ``makes_mask()`` is true (``Embedding(mask_zero=True)``); ``Sequential``
    # then passes it as ``call(x, mask=mask)`` to layers with ``uses_mask`` (recurrent layers,
    # attention, GlobalAveragePooling1D) and asks each layer for the next mask with
    # ``compute_mask``. Per-step layers (Dense, Dropout, Activation, LayerNormalization) set
    # ``keeps_mask`` and hand the mask on unchanged; any other layer drops it.
    uses_mask: bool = False
    keeps_mask: bool = False

    # Keras gives ``build`` the batch shape, ``(None, *per_sample)``; ember's own layers take the
    # per-sample shape. A layer written outside ember (a user's, from Keras code) gets Keras'.
    build_with_batch_axis: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.build_with_batch_axis = not cls.__module__.startswith("ember.")
        if "__init__" not in cls.__dict__:
            return
        init = cls.__init__
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self: Layer, *args: Any, **kw: Any) -> None:
            # Record the outermost constructor's arguments only (a subclass calling super().__init__
            # must not overwrite them).
            if "_config" not in self.__dict__:
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                config = dict(bound.arguments)
                config.pop("self")
                extra = config.pop("kwargs", {}) if "kwargs" in signature.parameters else {}
                object.__setattr__(self, "_config", {**config, **extra})
            init(self, *args, **kw)

        cls.__init__ = recording_init  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        activation: Any = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        # None (not Identity) when absent: one module call fewer per layer on the hot path.
        self.activation = None if activation is None else activations.get(activation)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.name = name
        self.built = False
        self.built_input_shape: tuple[int, ...] | None = None

    # -- to implement -----------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...]) -> None:
        """Create parameters for inputs of per-sample shape ``input_shape`` (no batch axis)."""

    def call(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's computation before its activation."""
        raise NotImplementedError

    def regularization_loss(self) -> torch.Tensor | None:
        """Penalty from ``kernel_regularizer``/``bias_regularizer`` (or ``add_weight``'s
        ``regularizer``), or ``None`` if there is none."""
        total = None
        for regularizer, weight in self.__dict__.get("_added_regularizers", ()):
            penalty = regularizer(weight)
            total = penalty if total is None else total + penalty
        for penalty in self.__dict__.pop("_added_losses", ()):  # add_loss(): read once
            total = penalty if total is None else total + penalty
        return total

    def add_loss(self, loss: torch.Tensor | float) -> None:
        """Add ``loss`` to this step's loss (Keras' ``add_loss``, called from ``call``): an
        activity penalty, an auxiliary loss. The task adds it once, with the weight penalties.

        Example:
            >>> class ActivityPenalty(Layer):
            ...     def call(self, inputs):
            ...         self.add_loss(1e-2 * inputs.square().sum())
            ...         return inputs
            >>> layer = ActivityPenalty()
            >>> _ = layer(torch.ones(2, 3))
            >>> round(float(layer.regularization_loss()), 6)
            0.06
        """
        self.adds_losses = True
        self.__dict__.setdefault("_added_losses", []).append(torch.as_tensor(loss))

    @property
    def losses(self) -> list[torch.Tensor]:
        """The losses ``add_loss`` added since the task last read them (Keras' ``losses``)."""
        return list(self.__dict__.get("_added_losses", ()))

    def add_weight(
        self,
        shape: tuple[int, ...] = (),
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        name: str | None = None,
    ) -> Variable:
        """A new weight of ``shape`` (Keras' ``add_weight``), for a layer's ``build``.

        ``initializer`` is a name or an ember initializer (default ``"glorot_uniform"``, Keras'
        default); ``regularizer`` adds its penalty to the loss; ``constraint`` (a name such as
        ``"non_neg"``, a constraint or a function of the weight) projects the weight after each
        optimizer step, as ``kernel_constraint`` does (the weight's ``constraint``, as Keras'
        variables keep it; it sees the weight in the shape given here). Assign the result to an
        attribute (``self.w = self.add_weight(...)``); one that is not is registered under
        ``name`` after ``build``. The weight is a :class:`~ember.layers.variables.Variable`:
        a torch ``Parameter`` with Keras' ``assign``/``assign_add``/``assign_sub``.

        Example:
            >>> class Scale(Layer):
            ...     def build(self, input_shape):
            ...         self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            ...     def call(self, inputs):
            ...         return inputs * self.scale
            >>> Scale()(torch.full((2, 3), 2.0)).tolist()
            [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
        """
        projection = constraints.get(constraint)  # checked before the weight is made
        value = torch.empty(tuple(shape), dtype=as_torch_dtype(dtype))
        default = "glorot_uniform" if value.is_floating_point() and value.dim() >= 2 else "zeros"
        initializers.get(initializer or default)(value)
        weight = Variable(value, requires_grad=bool(trainable) and value.is_floating_point())
        weight.constraint = projection  # applied by the engine after each optimizer step
        added = self.__dict__.setdefault("_added_weights", [])
        added.append((name or f"weight_{len(added)}", weight))
        if regularizer is not None:
            self.__dict__.setdefault("_added_regularizers", []).append(
                (regularizers.get(regularizer), weight)
            )
        return weight

    def _register_added_weights(self) -> None:
        # Weights from add_weight that build() did not assign to an attribute still belong to
        # the layer (Keras tracks them too).
        registered = {id(p) for p in self.parameters(recurse=False)}
        for name, weight in self.__dict__.pop("_added_weights", []):
            if id(weight) not in registered:
                self.register_parameter(name, weight)

    # Keras' get_weights/set_weights for one layer: ember.layers.weight_arrays registers its
    # functions here (it reads every layer class's layout, so this module cannot import it).
    weight_arrays: Any = None

    def get_weights(self) -> list[np.ndarray]:
        """This layer's weights as numpy arrays, in Keras' order and layouts (Keras'
        ``layer.get_weights()``; see :mod:`ember.layers.keras_weights`)."""
        return type(self).weight_arrays.get_weights(self)

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Load arrays in Keras' order and layouts; every shape is checked first."""
        type(self).weight_arrays.set_weights(self, weights)

    @property
    def weights(self) -> list[nn.Parameter]:
        """Keras' ``weights``: the layer's parameters (trainable first, as Keras lists them)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        """The parameters that train."""
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        """The frozen parameters."""
        return [p for p in self.parameters() if not p.requires_grad]

    def makes_mask(self) -> bool:
        """Whether this layer starts a mask (see ``compute_mask``); ``Embedding(mask_zero=True)``."""
        return False

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The mask of this layer's output, given its input ``x`` and the input's ``mask``."""
        return mask if self.keeps_mask else None

    # -- shared machinery ---------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The hot path (one real tensor, no keywords) costs one type check.
        if kwargs or not args or type(args[0]) is not torch.Tensor:
            if is_symbolic((args, kwargs)):
                return call_symbolic(self, args, kwargs)
            if args and isinstance(args[0], np.ndarray) and args[0].dtype.kind in "biuf":
                # Keras layers take numpy arrays (string layers take string arrays as they are)
                args = (to_tensor(args[0]), *args[1:])
            if "training" in kwargs:
                return call_in_mode(self, kwargs.pop("training"), args, kwargs)
        return super().__call__(*args, **kwargs)

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not self.built:
            self.build_from_input(x)
        y = self.call(x, *args, **kwargs)  # extra arguments: e.g. mask= for a layer that uses one
        return y if self.activation is None else self.activation(y)

    def build_from_input(self, x: torch.Tensor) -> None:
        """Build from an example batch, creating parameters on ``x``'s device. A list or dict
        of tensors (a layer taking several inputs) builds from the same structure of shapes."""
        if not isinstance(x, torch.Tensor):
            self._build_from_structure(x)
            return
        received = tuple(x.shape[1:])
        if self.input_shape is not None and not shape_matches(self.input_shape, received):
            raise ShapeError(
                f"{type(self).__name__} expects inputs of per-sample shape {self.input_shape} "
                f"(set by input_shape=...), received per-sample shape {received} (batch shape "
                f"{tuple(x.shape)}). Fix: reshape the data to {self.input_shape}, or change "
                f"input_shape to {received}."
            )
        self.build((None, *received) if self.build_with_batch_axis else received)
        self._register_added_weights()
        apply_settings(self)  # a layer set trainable=False before it had weights
        self.to(x.device)
        # Recorded so a saved model can be rebuilt (and summarised) without example data.
        self.built_input_shape = received
        self.built = True

    def _build_from_structure(self, x: Any) -> None:
        batch_axis = self.build_with_batch_axis

        def shape_of(t: torch.Tensor) -> tuple:
            return (None, *t.shape[1:]) if batch_axis else tuple(t.shape[1:])

        if isinstance(x, dict):
            shapes: Any = {key: shape_of(value) for key, value in x.items()}
            first = next(iter(x.values()))
        else:
            shapes, first = [shape_of(value) for value in x], x[0]
        self.build(shapes)
        self._register_added_weights()
        apply_settings(self)
        self.to(first.device)
        self.built = True

    @property
    def trainable(self) -> bool:
        """Keras' ``trainable``: whether any of the layer's weights trains (for a layer without
        weights, e.g. one not built yet, the last value set; True at first).

        Setting it to False freezes every weight of the layer (also those it builds later) and
        holds its batch-norm layers in inference mode while frozen, as Keras does; True undoes
        both. See :mod:`ember.layers.freezing` and :func:`ember.transfer.freeze`.

        Example:
            >>> from ember import layers
            >>> dense = layers.Dense(3)
            >>> dense.trainable = False  # before the layer has weights
            >>> _ = dense(torch.ones(2, 4))
            >>> dense.trainable, dense.weight.requires_grad
            (False, False)
        """
        return is_trainable(self)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        set_trainable(self.modules(), bool(value), training=self.training)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, enough to rebuild this layer with ``type(layer)(**config)``."""
        return dict(self.__dict__.get("_config", {}))

    def extra_repr(self) -> str:
        shown = {k: v for k, v in self.get_config().items() if v is not None and k != "name"}
        return ", ".join(f"{k}={v!r}" for k, v in shown.items())


def call_in_mode(module: nn.Module, training: bool | None, args: tuple, kwargs: dict) -> Any:
    """``module(*args, **kwargs)`` in training mode ``training`` (Keras' ``training=`` argument:
    None follows the module's own mode; True/False force dropout and batch norm for this call)."""
    if training is None or bool(training) == module.training:
        return nn.Module.__call__(module, *args, **kwargs)
    was_training = module.training
    module.train(bool(training))
    try:
        return nn.Module.__call__(module, *args, **kwargs)
    finally:
        module.train(was_training)


def reset_states(module: nn.Module) -> None:
    """Forget what stateful layers kept: after a dry run (building, shape checks), the first
    real batch must not inherit the dry run's states, nor its batch size."""
    for submodule in module.modules():
        if getattr(submodule, "stateful", False) and callable(
            getattr(submodule, "reset_states", None)
        ):
            submodule.reset_states()


def shape_matches(expected: tuple, received: tuple) -> bool:
    """Whether a per-sample shape fits an expected one, where None matches any size (Keras'
    ``input_shape=(None, 16)``).

    Example:
        >>> shape_matches((None, 16), (7, 16)), shape_matches((28, 28), (28, 27))
        (True, False)
    """
    return len(expected) == len(received) and all(
        e is None or e == r for e, r in zip(expected, received)
    )
