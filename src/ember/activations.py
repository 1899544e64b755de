"""Activation functions by Keras name, as ``torch.nn`` modules.

Example:
    >>> import torch
    >>> from ember import activations
    >>> activations.get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ember.errors import ConfigError
from ember.registry import Registry

ACTIVATIONS = Registry("activation")


class Step(nn.Module):
    """The Heaviside step function ``1 if x >= threshold else 0`` (the classic perceptron's).

    It has zero gradient almost everywhere, so it suits the perceptron learning rule, not backprop.
    """

    def __init__(self, threshold: float = 0.0) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x >= self.threshold).to(x.dtype)


class Lambda(nn.Module):
    """Wraps a plain function (e.g. ``torch.tanh``) as a module."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)


ACTIVATIONS.add("linear", nn.Identity)
ACTIVATIONS.add("identity", nn.Identity)
ACTIVATIONS.add("relu", nn.ReLU)
ACTIVATIONS.add("relu6", nn.ReLU6)
ACTIVATIONS.add("sigmoid", nn.Sigmoid)
ACTIVATIONS.add("hard_sigmoid", nn.Hardsigmoid)
ACTIVATIONS.add("tanh", nn.Tanh)
ACTIVATIONS.add("elu", nn.ELU)
ACTIVATIONS.add("selu", nn.SELU)
ACTIVATIONS.add("gelu", nn.GELU)
ACTIVATIONS.add("swish", nn.SiLU)
ACTIVATIONS.add("silu", nn.SiLU)
ACTIVATIONS.add("mish", nn.Mish)
ACTIVATIONS.add("softplus", nn.Softplus)
ACTIVATIONS.add("softsign", nn.Softsign)
ACTIVATIONS.add("step", Step)
ACTIVATIONS.add("heaviside", Step)
# Keras' leaky_relu slope is 0.2 (negative_slope in keras.activations.leaky_relu); torch's is 0.01.
ACTIVATIONS.add("leaky_relu", lambda: nn.LeakyReLU(0.2))
ACTIVATIONS.add("softmax", lambda: nn.Softmax(dim=-1))
ACTIVATIONS.add("log_softmax", lambda: nn.LogSoftmax(dim=-1))


def get(activation: str | nn.Module | Callable | None) -> nn.Module:
    """Return an activation module for a Keras name, a module, a function, or ``None`` (identity).

    Example:
        >>> get("softmax")
        Softmax(dim=-1)
        >>> get(None)
        Identity()
    """
    if activation is None:
        return nn.Identity()
    if isinstance(activation, nn.Module):
        return activation
    if isinstance(activation, str):
        return ACTIVATIONS.get(activation)()
    if callable(activation):
        return Lambda(activation)
    raise ConfigError(
        f"activation must be a name such as 'relu', an nn.Module or a function, "
        f"received {activation!r}"
    )


def names() -> list[str]:
    """Every activation name :func:`get` accepts."""
    return ACTIVATIONS.names()
