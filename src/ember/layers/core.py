"""Core layers: Dense, Flatten, Reshape, Dropout, Activation, Embedding.

Example:
    >>> import torch
    >>> from ember import layers
    >>> layers.Dense(3, activation="relu")(torch.randn(8, 5)).shape
    torch.Size([8, 3])
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.layers import constraints, initializers, regularizers
from ember.layers.base import Layer
from ember.layers.registry import LAYERS
from ember.layers.variables import Variable


def _new_parameter(shape: tuple[int, ...], initializer: Any) -> Variable:
    """A parameter of ``shape`` filled by ``initializer``."""
    tensor = torch.empty(shape)
    initializer(tensor)
    return Variable(tensor)  # a Parameter with Keras' numpy()/assign()


def _regularization(*pairs: tuple[Any, torch.Tensor | None]) -> torch.Tensor | None:
    """The summed penalty of ``(regularizer, parameter)`` pairs, skipping absent ones; else None."""
    total = None
    for regularizer, parameter in pairs:
        if regularizer is not None and parameter is not None:
            penalty = regularizer(parameter)
            total = penalty if total is None else total + penalty
    return total


def _init_kernel_and_bias(
    layer: Layer,
    kernel_initializer: Any,
    bias_initializer: Any,
    kernel_regularizer: Any,
    bias_regularizer: Any,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
) -> None:
    """Sets the kernel/bias options on ``layer``; ``weight`` and ``bias`` are created in build."""
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    # Applied by the training engine after each optimizer step (constraints.constraint_step).
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)
    layer.register_parameter("weight", None)
    layer.register_parameter("bias", None)


def _kernel_and_bias_regularization(layer: Layer) -> torch.Tensor | None:
    return _regularization(
        (layer.kernel_regularizer, layer.weight), (layer.bias_regularizer, layer.bias)
    )


@LAYERS.register()
class Dense(Layer):
    """A fully connected layer on the last axis: ``activation(x @ W.T + b)``.

    The kernel is stored torch-style as ``weight`` of shape ``(units, in_features)``.

    Example:
        >>> layer = Dense(4, activation="relu", kernel_regularizer="l2")
        >>> layer(torch.randn(2, 7, 3)).shape
        torch.Size([2, 7, 4])
    """

    keeps_mask = True  # per-step: a padded step's mask carries through

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
    ) -> None:
        super().__init__(activation=activation, input_shape=input_shape, name=name)
        self.units = checks.positive_int("units", units)
        self.use_bias = use_bias
        _init_kernel_and_bias(
            self,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )

    def build(self, input_shape: tuple[int, ...]) -> None:
        if len(input_shape) == 0:
            raise ShapeError(
                "Dense needs inputs with a feature axis, (batch, features), received a 1-D batch. "
                "Fix: reshape the data to (batch, 1), e.g. x.unsqueeze(-1)."
            )
        self.weight = _new_parameter((self.units, input_shape[-1]), self.kernel_initializer)
        if self.use_bias:
            self.bias = _new_parameter((self.units,), self.bias_initializer)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)  # (..., in) -> (..., units)

    def regularization_loss(self) -> torch.Tensor | None:
        return _kernel_and_bias_regularization(self)


@LAYERS.register()
class Flatten(Layer):
    """Flattens each sample to a vector, keeping Keras' (row-major, channels-last) order.

    Example:
        >>> Flatten()(torch.zeros(2, 28, 28)).shape
        torch.Size([2, 784])
    """

    def __init__(self, input_shape: tuple[int, ...] | None = None, name: str | None = None) -> None:
        super().__init__(input_shape=input_shape, name=name)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        # Our conv layers return contiguous (N, H, W, C) tensors: a free view, in Keras order.
        return x.flatten(1) if x.dim() > 1 else x.unsqueeze(1)


@LAYERS.register()
class Reshape(Layer):
    """Reshapes each sample to ``target_shape``; one entry may be -1 (inferred).

    Example:
        >>> Reshape((7, -1))(torch.zeros(2, 28)).shape
        torch.Size([2, 7, 4])
    """

    def __init__(
        self,
        target_shape: tuple[int, ...],
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        target_shape = tuple(target_shape)
        if target_shape.count(-1) > 1 or any(
            isinstance(d, bool) or not isinstance(d, int) or (d <= 0 and d != -1)
            for d in target_shape
        ):
            raise ConfigError(
                f"target_shape must hold positive integers and at most one -1, "
                f"received target_shape={target_shape!r}"
            )
        self.target_shape = target_shape

    def build(self, input_shape: tuple[int, ...]) -> None:
        size, known = math.prod(input_shape), math.prod(d for d in self.target_shape if d != -1)
        fits = size % known == 0 if -1 in self.target_shape else size == known
        if not fits:
            raise ShapeError(
                f"Reshape cannot turn per-sample shape {input_shape} ({size} values) into "
                f"{self.target_shape}. Fix: choose a target_shape whose sizes multiply to {size}."
            )

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.target_shape)


@LAYERS.register()
class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training, scaling the rest by 1/(1-rate).

    Example:
        >>> Dropout(0.5).eval()(torch.ones(2, 3)).sum().item()
        6.0
    """

    keeps_mask = True  # per-step: a padded step's mask carries through

    def __init__(
        self, rate: float, input_shape: tuple[int, ...] | None = None, name: str | None = None
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.rate = checks.rate("rate", rate)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        if x.device.type == "cpu":
            return x * _cpu_dropout_mask(x, self.rate)
        return F.dropout(x, self.rate, training=True)


def _cpu_dropout_mask(x: torch.Tensor, rate: float) -> torch.Tensor:
    """A scaled keep-mask drawn from 16 random bits per element.

    torch's CPU ``bernoulli_`` draws a double per element and is the slowest op in a small MLP's
    step (13% of an epoch at batch 256); four mask elements per 64-bit draw make dropout ~2.5x
    faster. The drop probability is ``rate`` rounded to a multiple of 1/65536, and the scale uses
    that rounded value, so the expected output still equals the input.
    """
    n = x.numel()
    # the full 64-bit range, so every 16-bit lane is uniform (random_() alone never sets the sign bit)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None)
    lanes = bits.view(torch.int16)[:n].view(x.shape)
    dropped = min(round(rate * 65536), 65535)
    keep = lanes >= dropped - 32768
    return keep.to(x.dtype).mul_(65536 / (65536 - dropped))


@LAYERS.register()
class Activation(Layer):
    """Applies an activation by name or module; its :meth:`call` (the logits path) is the identity.

    Example:
        >>> Activation("relu")(torch.tensor([[-1.0, 2.0]]))
        tensor([[0., 2.]])
    """

    keeps_mask = True  # per-step: a padded step's mask carries through

    def __init__(
        self, activation: Any, input_shape: tuple[int, ...] | None = None, name: str | None = None
    ) -> None:
        super().__init__(activation=activation, input_shape=input_shape, name=name)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x


@LAYERS.register()
class Embedding(Layer):
    """Maps integer ids in ``[0, input_dim)`` to learned vectors of size ``output_dim``.

    The table is ``weight`` of shape ``(input_dim, output_dim)``, as in ``nn.Embedding``. With
    ``mask_zero=True``, id 0 is padding and :meth:`compute_mask` returns ``ids != 0``.
    ``trainable=False`` freezes the table (it survives saving: it is a constructor argument).

    Example:
        >>> Embedding(1000, 16)(torch.tensor([[4, 20, 7]])).shape
        torch.Size([1, 3, 16])
    """

    input_dtype = torch.long  # token ids

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        mask_zero: bool = False,
        trainable: bool = True,
        input_length: int | None = None,
        input_shape: tuple[int, ...] | None = None,
        name: str | None = None,
        embeddings_constraint: Any = None,
    ) -> None:
        super().__init__(input_shape=input_shape, name=name)
        self.input_dim = checks.positive_int("input_dim", input_dim)
        self.output_dim = checks.positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.input_length = input_length  # accepted for Keras compatibility; shapes are lazy
        # The table's size does not depend on the input, so it exists before the first call.
        self.weight = _new_parameter((self.input_dim, self.output_dim), self.embeddings_initializer)
        self.weight.requires_grad_(trainable)  # False: frozen (pretrained vectors, say)

    def build_from_input(self, x: torch.Tensor) -> None:
        super().build_from_input(x)
        if x.numel() and not torch.compiler.is_compiling():
            self._check_ids(x)  # once, on the first batch; later batches fail in call()

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_floating_point():  # Keras casts float ids to integers
            x = x.long()
        try:
            return F.embedding(x, self.weight)  # (N, ...) -> (N, ..., output_dim)
        except (IndexError, RuntimeError):
            self._check_ids(x)
            raise

    def regularization_loss(self) -> torch.Tensor | None:
        return _regularization((self.embeddings_regularizer, self.weight))

    def makes_mask(self) -> bool:
        return self.mask_zero

    def compute_mask(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """``x != 0`` when ``mask_zero`` is set (id 0 is padding), else ``None``."""
        return x != 0 if self.mask_zero else None

    def _check_ids(self, x: torch.Tensor) -> None:
        low, high = int(x.min()), int(x.max())
        if low < 0 or high >= self.input_dim:
            raise DataError(
                f"Embedding received ids in [{low}, {high}] (max index {high}), but input_dim="
                f"{self.input_dim} allows only ids in [0, {self.input_dim - 1}]. Fix: set "
                f"input_dim to at least {high + 1} (the vocabulary size), or re-encode the data."
            )
