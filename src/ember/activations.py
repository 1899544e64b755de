"""Activation functions by Keras name, as ``torch.nn`` modules, and as Keras' functions
(``activations.relu(x)``, ``Dense(4, activation=activations.gelu)``).

Example:
    >>> import torch
    >>> from ember import activations
    >>> activations.get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> activations.relu(torch.tensor([-1.0, 2.0]), negative_slope=0.5)
    tensor([-0.5000,  2.0000])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
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
        name = name_of(activation)  # Keras' activations.relu: the same module as "relu"
        if name is not None and name in ACTIVATIONS:
            return ACTIVATIONS.get(name)()
        return Lambda(activation)
    raise ConfigError(
        f"activation must be a name such as 'relu', an nn.Module or a function, "
        f"received {activation!r}"
    )


def names() -> list[str]:
    """Every activation name :func:`get` accepts."""
    return ACTIVATIONS.names()


# -- Keras' activation functions (keras.activations.relu(x) ...) --------------------------------
def relu(
    x: torch.Tensor,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> torch.Tensor:
    """Keras' ``relu``: ``x`` above ``threshold``, ``negative_slope * (x - threshold)`` below,
    capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else y.clamp_max(max_value)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """Keras' ``leaky_relu`` (slope 0.2 below zero by default)."""
    return F.leaky_relu(x, negative_slope)


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Keras' ``softmax`` along ``axis``."""
    return torch.softmax(x, axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Keras' ``log_softmax`` along ``axis``."""
    return torch.log_softmax(x, axis)


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Keras' ``gelu`` (``approximate=True``: the tanh form)."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Keras' ``elu``."""
    return F.elu(x, alpha)


def linear(x: torch.Tensor) -> torch.Tensor:
    """Keras' ``linear``: ``x`` unchanged."""
    return x


sigmoid, tanh, selu, softplus = torch.sigmoid, torch.tanh, F.selu, F.softplus
softsign, silu, swish, mish, exponential = F.softsign, F.silu, F.silu, F.mish, torch.exp
relu6, hard_sigmoid = F.relu6, F.hardsigmoid

# The functions by name, so a layer given one saves it by its name (Keras does the same).
FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "relu": relu, "leaky_relu": leaky_relu, "softmax": softmax, "log_softmax": log_softmax,
    "gelu": gelu, "elu": elu, "linear": linear, "sigmoid": sigmoid, "tanh": tanh, "selu": selu,
    "softplus": softplus, "softsign": softsign, "silu": silu, "swish": swish, "mish": mish,
    "exponential": exponential, "relu6": relu6, "hard_sigmoid": hard_sigmoid,
}  # fmt: skip


def name_of(function: Callable) -> str | None:
    """The Keras name of one of this module's activation functions, or None."""
    return next((name for name, known in FUNCTIONS.items() if known is function), None)
