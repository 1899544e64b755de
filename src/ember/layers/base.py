"""The base of ember's Keras-style layers: lazy input shapes, a fused activation, a saved config.

A layer creates its parameters in :meth:`Layer.build` the first time it sees an input, so users
write ``Dense(128)`` without an input size, as in Keras. Everything else is a plain ``nn.Module``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import torch
from torch import nn

from ember import activations
from ember.errors import ShapeError
from ember.layers.freezing import apply_settings, is_trainable, set_trainable


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
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
        """Penalty from ``kernel_regularizer``/``bias_regularizer``, or ``None`` if there is none."""
        return None

    def makes_mask(self) -> bool:
        """Whether this layer starts a mask (see ``compute_mask``); ``Embedding(mask_zero=True)``."""
        return False

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """The mask of this layer's output, given its input ``x`` and the input's ``mask``."""
        return mask if self.keeps_mask else None

    # -- shared machinery ---------------------------------------------------------------------
    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if not self.built:
            self.build_from_input(x)
        y = self.call(x, *args, **kwargs)  # extra arguments: e.g. mask= for a layer that uses one
        return y if self.activation is None else self.activation(y)

    def build_from_input(self, x: torch.Tensor) -> None:
        """Build from an example batch, creating parameters on ``x``'s device."""
        received = tuple(x.shape[1:])
        if self.input_shape is not None and not shape_matches(self.input_shape, received):
            raise ShapeError(
                f"{type(self).__name__} expects inputs of per-sample shape {self.input_shape} "
                f"(set by input_shape=...), received per-sample shape {received} (batch shape "
                f"{tuple(x.shape)}). Fix: reshape the data to {self.input_shape}, or change "
                f"input_shape to {received}."
            )
        self.build(received)
        apply_settings(self)  # a layer set trainable=False before it had weights
        self.to(x.device)
        # Recorded so a saved model can be rebuilt (and summarised) without example data.
        self.built_input_shape = received
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
