"""Wrappers: ``TimeDistributed`` applies a layer to every time step; ``Lambda`` makes a layer of
a function.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.TimeDistributed(layers.Dense(8))(torch.randn(4, 10, 16)).shape
    torch.Size([4, 10, 8])
    >>> layers.Lambda(lambda x: x * 2)(torch.ones(1, 2))
    tensor([[2., 2.]])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.layers.base import Layer
from ember.layers.config_values import deserialize_value
from ember.layers.normalization import BatchNormalization
from ember.layers.registry import LAYERS


@LAYERS.register()
class TimeDistributed(Layer):
    """Applies ``layer`` to every step of ``(N, steps, ...)`` inputs, with the same weights.

    The steps are folded into the batch (``(N * steps, ...)``), one call instead of Keras' loop
    over steps: the same numbers for per-sample layers (Dense, Conv2D ...). A layer with batch
    statistics (a BatchNormalization inside it) runs once per step while training, as Keras
    does: each step's batch is normalised alone and the moving averages move once per step.
    ``get_config`` stores ``layer`` as ``{"class_name", "config"}``, from which the
    constructor also builds it.

    Example:
        >>> frames = torch.randn(2, 5, 28, 28, 1)  # 5 images per sample
        >>> from ember.layers import Conv2D
        >>> TimeDistributed(Conv2D(4, 3))(frames).shape
        torch.Size([2, 5, 26, 26, 4])
    """

    keeps_mask = True  # a step's output is that step's: a padded step stays padding

    def __init__(
        self,
        layer: Layer | dict[str, Any],
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        if isinstance(layer, dict) and set(layer) == {"class_name", "config"}:
            config = {key: deserialize_value(value) for key, value in layer["config"].items()}
            layer = LAYERS.get(layer["class_name"])(**config)
        if not isinstance(layer, Layer):
            raise ConfigError(
                f"TimeDistributed wraps an ember layer, received layer={layer!r}. Fix: pass a "
                f"layer instance, e.g. TimeDistributed(layers.Dense(8))."
            )
        self.layer = layer

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) < 2:
            raise ShapeError(
                f"TimeDistributed expects inputs of shape (batch, steps, ...) with at least one "
                f"axis per step, received per-sample shape {tuple(input_shape)}. Fix: add a "
                f"feature axis, e.g. x.unsqueeze(-1)."
            )

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self._uses_batch_statistics():
            return torch.stack([self.layer(x[:, step]) for step in range(x.shape[1])], dim=1)
        batch, steps = x.shape[:2]
        y = self.layer(x.reshape(batch * steps, *x.shape[2:]))  # (N * steps, ...): one call
        return y.reshape(batch, steps, *y.shape[1:])

    def _uses_batch_statistics(self) -> bool:
        return any(
            isinstance(module, (BatchNormalization, nn.modules.batchnorm._BatchNorm))
            for module in self.layer.modules()
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, the wrapped layer as a ``{"class_name", "config"}`` dict."""
        config = super().get_config()
        config["layer"] = {
            "class_name": type(self.layer).__name__,
            "config": self.layer.get_config(),
        }
        return config

    def extra_repr(self) -> str:
        return ""  # the wrapped layer prints itself


@LAYERS.register()
class Lambda(Layer):
    """A layer computing ``function(inputs, **arguments)``: a tensor, or a list of tensors.

    A function taking ``training`` receives the layer's mode; one taking ``mask`` receives the
    sequence mask (in a ``Sequential``). ``mask`` gives the output's mask: a tensor, or a
    function ``(inputs, mask) -> mask``. ``output_shape`` is accepted for Keras code; ember
    learns shapes by running the function.

    A Python function cannot be written to a model's ``config.json``: saving a model with a
    ``Lambda`` raises :class:`~ember.errors.SaveError`. Write the computation as a ``Layer``
    subclass registered with ``@LAYERS.register()`` to save it, or save the weights alone with
    ``model.save_weights(path)`` and rebuild the model in code.

    Example:
        >>> Lambda(lambda x, power: x**power, arguments={"power": 3})(torch.tensor([[2.0]]))
        tensor([[8.]])
        >>> Lambda(lambda pair: pair[0] - pair[1])([torch.ones(1, 2), torch.ones(1, 2)])
        tensor([[0., 0.]])
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        if not callable(function):
            raise ConfigError(
                f"Lambda takes a function, received function={function!r}. Fix: e.g. "
                f"Lambda(lambda x: x * 2)."
            )
        if arguments is not None and not isinstance(arguments, dict):
            raise ConfigError(
                f"expected arguments to be a dict of keyword arguments for the function, "
                f"received arguments={arguments!r}"
            )
        self.function = function
        self.output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            parameters = {}
        self.takes_training = "training" in parameters
        self.uses_mask = "mask" in parameters  # Sequential then passes call(x, mask=...)

    def build_from_input(self, inputs: Any) -> None:
        if isinstance(inputs, torch.Tensor):
            super().build_from_input(inputs)
            return
        # A list of tensors (Keras' Lambda on several inputs): nothing to build.
        shapes = [tuple(x.shape[1:]) for x in inputs if isinstance(x, torch.Tensor)]
        self.built_input_shape = shapes  # type: ignore[assignment]
        self.built = True

    def call(self, inputs: Any, mask: torch.Tensor | None = None) -> Any:
        keywords = dict(self.arguments)
        if self.uses_mask:
            keywords["mask"] = mask
        if self.takes_training:
            keywords["training"] = self.training
        return self.function(inputs, **keywords)

    def compute_mask(self, x: Any, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        """``mask(x, mask)`` when ``mask`` is a function, else the ``mask`` given (None: none)."""
        return self.mask(x, mask) if callable(self.mask) else self.mask

    def extra_repr(self) -> str:
        return f"function={getattr(self.function, '__name__', self.function)!r}"
