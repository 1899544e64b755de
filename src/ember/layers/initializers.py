"""Weight initializers by Keras name, filling tensors in place with ``torch.nn.init``.

Keras computes fans from its kernel layout; torch's ``(out, in, *kernel)`` layout gives the same
``fan_in = in * receptive_field`` and ``fan_out = out * receptive_field``, so the numbers match.

Example:
    >>> import torch
    >>> from ember.layers import initializers
    >>> weight = torch.empty(64, 32)
    >>> initializers.get("he_normal")(weight)
    >>> initializers.serialize(initializers.get({"class_name": "Constant", "config": {"value": 2}}))
    {'class_name': 'Constant', 'config': {'value': 2}}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.registry import Registry

INITIALIZERS = Registry("initializer")
# Keras' truncated normal keeps values within two standard deviations; dividing by this constant
# (the std of a unit normal truncated to [-2, 2]) makes the truncated std the intended one.
_TRUNCATED_STD = 0.87962566103423978


def _fans(tensor: torch.Tensor) -> tuple[int, int]:
    if tensor.dim() >= 2:
        return nn.init._calculate_fan_in_and_fan_out(tensor)
    size = tensor.numel() if tensor.dim() == 1 else 1  # Keras: a vector's fans are its length
    return size, size


def _generator(seed: int | None) -> torch.Generator | None:
    return None if seed is None else torch.Generator().manual_seed(seed)


class Initializer:
    """Base class: ``initializer(tensor)`` fills ``tensor`` in place; ``get_config()`` rebuilds it.

    Example (a custom initializer)::

        class Halves(Initializer):
            def __call__(self, tensor):
                torch.nn.init.constant_(tensor, 0.5)
    """

    name = "initializer"  # the Keras snake-case name, used by :func:`serialize`

    def __call__(self, tensor: torch.Tensor) -> None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros. Example: ``Dense(4, bias_initializer=Zeros())``."""

    name = "zeros"

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.zeros_(tensor)


class Ones(Initializer):
    """All ones. Example: ``BatchNormalization(gamma_initializer=Ones())``."""

    name = "ones"

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.ones_(tensor)


class Constant(Initializer):
    """Every value set to ``value``. Example: ``Dense(4, bias_initializer=Constant(0.1))``."""

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.constant_(tensor, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class _Normal(Initializer):
    """What RandomNormal and TruncatedNormal share: ``mean``, ``stddev`` (0.05) and ``seed``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomNormal(_Normal):
    """Normal values, Keras default std 0.05. Example: ``RandomNormal(mean=0.0, stddev=0.02)``."""

    name = "random_normal"

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.normal_(tensor, self.mean, self.stddev, generator=_generator(self.seed))


class TruncatedNormal(_Normal):
    """Normal values cut at two standard deviations (Keras).

    Example: ``TruncatedNormal(mean=0.0, stddev=0.02)``.
    """

    name = "truncated_normal"

    def __call__(self, tensor: torch.Tensor) -> None:
        low, high = self.mean - 2 * self.stddev, self.mean + 2 * self.stddev
        nn.init.trunc_normal_(tensor, self.mean, self.stddev, low, high, _generator(self.seed))


class RandomUniform(Initializer):
    """Uniform values in ``[minval, maxval]``, Keras default ±0.05.

    Example: ``RandomUniform(minval=-1.0, maxval=1.0)``.
    """

    name = "random_uniform"

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.uniform_(tensor, self.minval, self.maxval, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras' VarianceScaling: std ``sqrt(scale / n)``, ``n`` the fan chosen by ``mode``.

    Example:
        >>> VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")  # he_normal
        VarianceScaling(scale=2.0, mode='fan_in', distribution='truncated_normal', seed=None)
    """

    name = "variance_scaling"
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        if mode not in self._MODES:
            raise ConfigError(f"mode must be one of {self._MODES}, received mode={mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ConfigError(
                f"distribution must be one of {self._DISTRIBUTIONS}, "
                f"received distribution={distribution!r}"
            )
        if not scale > 0:
            raise ConfigError(f"expected a positive scale, received scale={scale!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, tensor: torch.Tensor) -> None:
        """Fill ``tensor`` with std ``sqrt(scale / fan)``, the fan chosen by ``mode``."""
        fan_in, fan_out = _fans(tensor)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        std = math.sqrt(self.scale / max(1.0, fan))
        generator = _generator(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0) * std
            nn.init.uniform_(tensor, -limit, limit, generator=generator)
        elif self.distribution == "untruncated_normal":
            nn.init.normal_(tensor, 0.0, std, generator=generator)
        else:
            std /= _TRUNCATED_STD
            nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}  # fmt: skip


class _VarianceScalingPreset(VarianceScaling):
    """A named VarianceScaling (Glorot, He, LeCun): scale, mode and distribution are fixed class
    attributes, so it takes, and its config holds, only a seed (as Keras' presets do)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_VarianceScalingPreset):
    """Uniform, std sqrt(2 / (fan_in + fan_out)). Example: ``GlorotUniform(seed=0)``."""

    name = "glorot_uniform"
    scale, mode, distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal, std sqrt(2 / (fan_in + fan_out)). Example: ``GlorotNormal(seed=0)``."""

    name = "glorot_normal"
    scale, mode, distribution = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_VarianceScalingPreset):
    """Uniform, std sqrt(2 / fan_in). Example: ``HeUniform(seed=0)``."""

    name = "he_uniform"
    scale, mode, distribution = 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScalingPreset):
    """Truncated normal, std sqrt(2 / fan_in). Example: ``HeNormal(seed=0)``."""

    name = "he_normal"
    scale, mode, distribution = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_VarianceScalingPreset):
    """Uniform, std sqrt(1 / fan_in). Example: ``LecunUniform(seed=0)``."""

    name = "lecun_uniform"
    scale, mode, distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal, std sqrt(1 / fan_in). Example: ``LecunNormal(seed=0)``."""

    name = "lecun_normal"
    scale, mode, distribution = 1.0, "fan_in", "truncated_normal"


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``. Example: ``Orthogonal(gain=1.0)``."""

    name = "orthogonal"

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain, self.seed = gain, seed

    def __call__(self, tensor: torch.Tensor) -> None:
        nn.init.orthogonal_(tensor, self.gain, generator=_generator(self.seed))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (ones on the diagonal of a 2-D weight, Keras' rule for
    a rectangular one too). Example: ``Dense(4, kernel_initializer=Identity())``.

    Example:
        >>> weight = torch.empty(2, 3)
        >>> Identity(gain=2.0)(weight)
        >>> weight
        tensor([[2., 0., 0.],
                [0., 2., 0.]])
    """

    name = "identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, tensor: torch.Tensor) -> None:
        if tensor.dim() != 2:
            raise ShapeError(
                f"the Identity initializer fills 2-D weights, received one of shape "
                f"{tuple(tensor.shape)}. Fix: use it for a Dense kernel, or pick another "
                f"initializer such as 'orthogonal'."
            )
        with torch.no_grad():
            nn.init.eye_(tensor).mul_(self.gain)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


for _class in (Zeros, Ones, Constant, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
               GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
               Orthogonal, Identity):  # fmt: skip
    INITIALIZERS.add(_class.name, _class)  # the class name ("HeNormal") normalises to the same key
INITIALIZERS.add("normal", RandomNormal)  # Keras aliases
INITIALIZERS.add("uniform", RandomUniform)

# Keras 3 also exports every class under its snake-case name (``initializers.he_normal()``).
zeros, ones, constant = Zeros, Ones, Constant
random_normal, truncated_normal, random_uniform = RandomNormal, TruncatedNormal, RandomUniform
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_uniform, glorot_normal, he_uniform, he_normal = (
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
)
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal


def get(spec: str | dict | Initializer | Callable | None) -> Callable[[torch.Tensor], None] | None:
    """An initializer from a name, a ``{"class_name", "config"}`` dict, an instance or a function.

    Example:
        >>> get("glorot_uniform")
        GlorotUniform(seed=None)
        >>> get({"class_name": "RandomNormal", "config": {"stddev": 0.02}}).stddev
        0.02
    """
    return INITIALIZERS.resolve(
        spec,
        Initializer,
        "a name such as 'glorot_uniform', a dict, an Initializer or a function of a tensor",
    )


def deserialize(config: str | dict) -> Callable[[torch.Tensor], None] | None:
    """Keras' ``deserialize``: the initializer a name or ``{"class_name", "config"}`` describes.

    Example:
        >>> deserialize({"class_name": "Identity", "config": {"gain": 0.5}})
        Identity(gain=0.5)
    """
    return get(config)


def serialize(initializer: str | Initializer) -> str | dict[str, Any]:
    """The Keras name (default settings) or ``{"class_name", "config"}``; :func:`get` inverts it.

    Example:
        >>> serialize(HeNormal())
        'he_normal'
        >>> serialize(RandomNormal(stddev=0.02))
        {'class_name': 'RandomNormal', 'config': {'mean': 0.0, 'stddev': 0.02, 'seed': None}}
    """
    if isinstance(initializer, str):
        return initializer
    if not isinstance(initializer, Initializer):
        raise ConfigError(
            f"only names and Initializer instances can be serialized, received {initializer!r}; "
            "use a name such as 'he_normal' or a class from ember.layers.initializers"
        )
    config = initializer.get_config()
    registered = {factory for _, factory in INITIALIZERS.items()}
    if type(initializer) in registered and config == type(initializer)().get_config():
        return initializer.name
    return {"class_name": type(initializer).__name__, "config": config}


def names() -> list[str]:
    """Every initializer name :func:`get` accepts."""
    return INITIALIZERS.names()
