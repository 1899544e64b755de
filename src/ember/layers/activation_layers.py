"""Activation layers with settings, as Keras has them: ReLU, LeakyReLU, Softmax, ELU and PReLU.

(``Activation("relu")`` in :mod:`ember.layers.core` takes an activation by name.) Each acts on
every element alone, so a sequence mask passes through.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 3.0]))
    tensor([0.0000, 0.5000, 1.0000])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.layers import constraints, initializers, regularizers
from ember.layers.base import Layer
from ember.layers.registry import LAYERS


@LAYERS.register()
class ReLU(Layer):
    """Keras' ReLU: ``x`` above ``threshold`` (capped at ``max_value``), else
    ``negative_slope * (x - threshold)``.

    Example:
        >>> ReLU(negative_slope=0.1, threshold=1.0)(torch.tensor([0.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    keeps_mask = True

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.max_value = None
        if max_value is not None:
            self.max_value = checks.non_negative_number("max_value", max_value)
        self.negative_slope = checks.non_negative_number("negative_slope", negative_slope)
        self.threshold = checks.non_negative_number("threshold", threshold)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        # Keras' order of operations, so that the numbers match to the last bit.
        if self.threshold:
            y = torch.where(x > self.threshold, x, torch.zeros_like(x))
        else:
            y = torch.relu(x)
        if self.max_value is not None:
            y = y.clamp(0, self.max_value)
        if self.negative_slope:
            y = y - self.negative_slope * torch.relu(self.threshold - x)
        return y


@LAYERS.register()
class LeakyReLU(Layer):
    """``x`` where positive, else ``negative_slope * x`` (Keras' default slope is 0.3;
    ``alpha`` is Keras 2's name for it).

    Example:
        >>> LeakyReLU(negative_slope=0.5)(torch.tensor([-2.0, 2.0]))
        tensor([-1.,  2.])
    """

    keeps_mask = True

    def __init__(
        self,
        negative_slope: float = 0.3,
        alpha: float | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        slope = negative_slope if alpha is None else alpha
        self.negative_slope = checks.non_negative_number("negative_slope", slope)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)


@LAYERS.register()
class Softmax(Layer):
    """Softmax over ``axis`` (counting the batch axis; an int, or a list of axes).

    Over the last axis it is the layer's activation, so a model ending in ``Softmax()`` and
    compiled with cross-entropy trains on the logits, as with ``Dense(..., "softmax")``.

    Example:
        >>> Softmax()(torch.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    keeps_mask = True

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(checks.is_int(a) for a in axes):
            raise ConfigError(f"expected an integer axis or a list of them, received axis={axis!r}")
        single = axes[0] if len(axes) == 1 else None
        activation = nn.Softmax(dim=single) if single is not None else None
        super().__init__(activation=activation, input_shape=input_shape, name=name)
        self.axis = axis
        self.axes = tuple(axes)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation is not None:
            return x  # the logits path; the activation applies the softmax
        return torch.exp(x - torch.logsumexp(x, dim=self.axes, keepdim=True))


@LAYERS.register()
class ELU(Layer):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``.

    Example:
        >>> ELU(alpha=2.0)(torch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    keeps_mask = True

    def __init__(
        self,
        alpha: float = 1.0,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.alpha = checks.number("alpha", alpha)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, self.alpha)


@LAYERS.register()
class PReLU(Layer):
    """A leaky ReLU whose negative slopes are learned: ``max(x, 0) - alpha * max(-x, 0)``.

    ``alpha`` has the per-sample input shape (Keras' layout, e.g. ``(rows, cols, channels)``),
    with size 1 on ``shared_axes`` (counting the batch axis as 0): ``shared_axes=[1, 2]`` learns
    one slope per channel of an image.

    Example:
        >>> layer = PReLU(shared_axes=[1, 2])
        >>> layer(torch.randn(2, 5, 5, 3)).shape, tuple(layer.alpha.shape)
        (torch.Size([2, 5, 5, 3]), (1, 1, 3))
    """

    keeps_mask = True

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | Sequence[int] | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        shared = [] if shared_axes is None else shared_axes
        self.shared_axes = tuple(shared) if isinstance(shared, (list, tuple)) else (shared,)
        if not all(checks.is_int(a) and a >= 1 for a in self.shared_axes):
            raise ConfigError(
                f"expected shared_axes to be axes after the batch axis (integers >= 1), "
                f"received shared_axes={shared_axes!r}. Fix: e.g. shared_axes=[1, 2] for images."
            )
        self.register_parameter("alpha", None)

    def build(self, input_shape: tuple[int, ...]) -> None:
        if any(a > len(input_shape) for a in self.shared_axes):
            raise ShapeError(
                f"PReLU(shared_axes={list(self.shared_axes)}) names axes beyond the input's "
                f"{len(input_shape)} per-sample axes (per-sample shape {tuple(input_shape)}). "
                f"Fix: use axes 1 to {len(input_shape)}."
            )
        shape = tuple(
            1 if axis in self.shared_axes else size
            for axis, size in enumerate(input_shape, start=1)  # axis 0 is the batch
        )
        alpha = torch.empty(shape)
        self.alpha_initializer(alpha)
        self.alpha = nn.Parameter(alpha)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1:] != self.alpha.shape and not _broadcasts(self.alpha.shape, x.shape[1:]):
            raise ShapeError(
                f"PReLU was built for per-sample shape {self.built_input_shape} (alpha "
                f"{tuple(self.alpha.shape)}), received {tuple(x.shape[1:])}. Fix: share the "
                f"axes whose size varies, e.g. shared_axes=[1] for sequences of any length."
            )
        return torch.relu(x) - self.alpha * torch.relu(-x)

    def regularization_loss(self) -> torch.Tensor | None:
        if self.alpha_regularizer is None or self.alpha is None:
            return None
        return self.alpha_regularizer(self.alpha)


def _broadcasts(alpha: torch.Size, received: torch.Size) -> bool:
    return len(alpha) == len(received) and all(a in (1, r) for a, r in zip(alpha, received))
