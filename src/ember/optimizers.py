"""Optimizers by Keras name, as *specs*: the torch optimizer is built later, once parameters exist.

A spec holds the hyper-parameters (Keras names and defaults) and gradient clipping; the trainer
calls ``spec.build(params)`` to get a ``torch.optim`` optimizer, ``clip_gradients(params, spec)``
between ``backward`` and ``step``, and ``spec.schedule.build(...)`` for a learning-rate schedule.

Example:
    >>> import torch
    >>> from ember import optimizers
    >>> spec = optimizers.get("adam")
    >>> optimizer = spec.build(torch.nn.Linear(2, 1).parameters())
    >>> type(optimizer).__name__, optimizer.param_groups[0]["eps"]
    ('Adam', 1e-07)

Differences from Keras, kept on purpose because the update itself is torch's:

* ``weight_decay`` of ``SGD``, ``RMSprop`` and ``Adagrad`` is torch's L2 term added to the
  gradient; Keras 3 decays the weights directly (decoupled). ``Adam(weight_decay=...)`` and
  ``AdamW`` are decoupled, as in Keras (both build ``torch.optim.AdamW``).
* ``epsilon`` is passed to torch as ``eps``; torch adds it at a slightly different place in the
  Adam and RMSprop updates, which only matters when gradients are tiny.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch

from ember.errors import ConfigError
from ember.registry import Registry

OPTIMIZERS = Registry("optimizer")
Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]


def _check_positive(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"expected a positive number, received {name}={value!r}")


def _check_fraction(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"expected a number in [0, 1), received {name}={value!r}")


class OptimizerSpec:
    """Base of the optimizer specs: learning rate (or schedule), clipping and ``maximize``.

    Subclasses name a ``torch.optim`` class and map their Keras arguments to torch's in
    ``_torch_arguments``. ``learning_rate`` may be a float or an :mod:`ember.schedules` schedule,
    whose initial learning rate then becomes the optimizer's.

    Example:
        >>> spec = SGD(learning_rate=0.1, clipnorm=1.0)
        >>> spec.clips, spec.learning_rate, spec.schedule is None
        (True, 0.1, True)
    """

    torch_class: type[torch.optim.Optimizer]

    def __init__(
        self,
        learning_rate: Any,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        if hasattr(learning_rate, "build") and hasattr(learning_rate, "interval"):
            _check_positive("learning_rate", _initial_learning_rate(learning_rate, type(self)))
        else:
            _check_positive("learning_rate", learning_rate)
        for name, value in [
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ]:
            _check_positive(name, value, allow_none=True)
        chosen = [
            n
            for n, v in [
                ("clipnorm", clipnorm),
                ("clipvalue", clipvalue),
                ("global_clipnorm", global_clipnorm),
            ]
            if v is not None
        ]
        if len(chosen) > 1:
            raise ConfigError(
                f"only one of clipnorm, clipvalue and global_clipnorm can be set, received "
                f"{', '.join(chosen)}. Fix: keep the one you want (as Keras does)."
            )
        self._learning_rate = learning_rate
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.maximize = bool(maximize)

    @property
    def schedule(self) -> Any:
        """The learning-rate schedule passed as ``learning_rate``, or None."""
        return None if isinstance(self._learning_rate, (int, float)) else self._learning_rate

    @property
    def learning_rate(self) -> float:
        """The initial learning rate (a schedule's starting value when there is one)."""
        if self.schedule is None:
            return float(self._learning_rate)
        return _initial_learning_rate(self.schedule, type(self))

    @property
    def clips(self) -> bool:
        """True if gradients are clipped before each step (see :func:`clip_gradients`)."""
        return any(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm))

    def build(self, params: Params) -> torch.optim.Optimizer:
        """Build the torch optimizer over ``params`` (tensors or param-group dicts).

        Where torch has a fused kernel for this optimizer and device (Adam, AdamW, SGD, Adagrad
        on CPU and CUDA), it is used: the same update, ~20% less time per step for a small MLP
        here (see docs/benchmarks.md).
        """
        params = list(params)
        extra = self._torch_arguments()
        if _can_fuse(self.torch_class, params):
            extra["fused"] = True
        return self.torch_class(params, lr=self.learning_rate, maximize=self.maximize, **extra)

    def without_schedule(self) -> OptimizerSpec:
        """A copy whose learning rate is the schedule's initial value, fixed (no schedule)."""
        constant = copy.copy(self)
        constant._learning_rate = self.learning_rate
        return constant

    def _torch_arguments(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        # The Keras arguments that differ from their defaults (each is stored under its name).
        shown = [f"learning_rate={self._learning_rate!r}"]
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name in ("self", "learning_rate"):
                continue
            value = getattr(self, name, parameter.default)
            if value != parameter.default:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _can_fuse(torch_class: type, params: list) -> bool:
    if "fused" not in inspect.signature(torch_class.__init__).parameters:
        return False
    tensors = [t for item in params for t in (item["params"] if isinstance(item, dict) else [item])]
    return (
        bool(tensors)
        and all(t.is_floating_point() and t.device.type in ("cpu", "cuda") for t in tensors)
        and len({t.device for t in tensors}) == 1
    )


def _initial_learning_rate(schedule: Any, spec_class: type) -> float:
    value = getattr(schedule, "initial_learning_rate", None)
    if value is None:  # e.g. StepDecay without a starting value: the optimizer's Keras default
        value = DEFAULT_LEARNING_RATES.get(spec_class, 0.001)
    return float(value)


# Each spec mirrors its Keras signature, so several have more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to all of them.
@OPTIMIZERS.register("sgd")
class SGD(OptimizerSpec):
    """Stochastic gradient descent, optionally with (Nesterov) momentum -> ``torch.optim.SGD``.

    Example:
        >>> spec = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> spec.build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["nesterov"]
        True
    """

    torch_class = torch.optim.SGD

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        _check_fraction("momentum", momentum)
        _check_weight_decay(weight_decay)
        if nesterov and momentum <= 0:
            raise ConfigError(
                f"nesterov=True needs momentum > 0, received momentum={momentum!r}. "
                f"Fix: pass momentum=0.9 (a common choice), or nesterov=False."
            )
        self.momentum, self.nesterov, self.weight_decay = momentum, bool(nesterov), weight_decay

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adam")
class Adam(OptimizerSpec):
    """Adam -> ``torch.optim.Adam``, or ``torch.optim.AdamW`` when ``weight_decay > 0``.

    Keras 3 decays weights decoupled from the gradient for every optimizer, which for Adam is
    exactly AdamW.

    Example:
        >>> optimizer = Adam(learning_rate=0.01).build(torch.nn.Linear(2, 1).parameters())
        >>> optimizer.param_groups[0]["betas"]
        (0.9, 0.999)
    """

    torch_class = torch.optim.Adam

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        _check_fraction("beta_1", beta_1)
        _check_fraction("beta_2", beta_2)
        _check_positive("epsilon", epsilon)
        _check_weight_decay(weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad, self.weight_decay = bool(amsgrad), weight_decay
        if weight_decay:
            self.torch_class = torch.optim.AdamW

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "betas": (self.beta_1, self.beta_2),
            "eps": self.epsilon,
            "amsgrad": self.amsgrad,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Keras default 0.004) -> ``torch.optim.AdamW``.

    Example:
        >>> AdamW().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["weight_decay"]
        0.004
    """

    torch_class = torch.optim.AdamW

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        self.torch_class = torch.optim.AdamW  # also when weight_decay=0


@OPTIMIZERS.register("rmsprop")
class RMSprop(OptimizerSpec):
    """RMSprop -> ``torch.optim.RMSprop`` (Keras ``rho`` is torch's ``alpha``).

    Example:
        >>> RMSprop(rho=0.95).build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["alpha"]
        0.95
    """

    torch_class = torch.optim.RMSprop

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        _check_fraction("rho", rho)
        _check_fraction("momentum", momentum)
        _check_positive("epsilon", epsilon)
        _check_weight_decay(weight_decay)
        self.rho, self.momentum, self.epsilon = rho, momentum, epsilon
        self.centered, self.weight_decay = bool(centered), weight_decay

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "alpha": self.rho,
            "momentum": self.momentum,
            "eps": self.epsilon,
            "centered": self.centered,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adagrad")
class Adagrad(OptimizerSpec):
    """Adagrad -> ``torch.optim.Adagrad``.

    Example:
        >>> Adagrad().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["eps"]
        1e-07
    """

    torch_class = torch.optim.Adagrad

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        if isinstance(initial_accumulator_value, bool) or not (
            isinstance(initial_accumulator_value, (int, float)) and initial_accumulator_value >= 0
        ):
            raise ConfigError(
                f"expected a non-negative number, received "
                f"initial_accumulator_value={initial_accumulator_value!r}"
            )
        _check_positive("epsilon", epsilon)
        _check_weight_decay(weight_decay)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon, self.weight_decay = epsilon, weight_decay

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.epsilon,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("rprop")
class Rprop(OptimizerSpec):
    """Resilient backpropagation (sign-based steps) -> ``torch.optim.Rprop``; full-batch method.

    Example:
        >>> Rprop().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["etas"]
        (0.5, 1.2)
    """

    torch_class = torch.optim.Rprop

    def __init__(
        self,
        learning_rate: Any = 0.01,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        etas, step_sizes = tuple(etas), tuple(step_sizes)
        if len(etas) != 2 or not 0 < etas[0] < 1 < etas[1]:
            raise ConfigError(
                f"expected etas=(decrease, increase) with 0 < decrease < 1 < increase, "
                f"received etas={etas!r}"
            )
        if len(step_sizes) != 2 or not 0 <= step_sizes[0] <= step_sizes[1]:
            raise ConfigError(
                f"expected step_sizes=(minimum, maximum) with 0 <= minimum <= maximum, "
                f"received step_sizes={step_sizes!r}"
            )
        self.etas, self.step_sizes = etas, step_sizes

    def _torch_arguments(self) -> dict[str, Any]:
        return {"etas": self.etas, "step_sizes": self.step_sizes}


DEFAULT_LEARNING_RATES = {
    SGD: 0.01,
    Adam: 0.001,
    AdamW: 0.001,
    RMSprop: 0.001,
    Adagrad: 0.001,
    Rprop: 0.01,
}


def _check_weight_decay(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"expected a non-negative number, received weight_decay={value!r}")


class _Prebuilt(OptimizerSpec):
    """A torch optimizer made by the user: ``build`` returns it and ignores ``params``."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        super().__init__(float(optimizer.param_groups[0]["lr"]))
        self.optimizer = optimizer

    def build(self, params: Params) -> torch.optim.Optimizer:
        return self.optimizer

    def __repr__(self) -> str:
        return f"optimizers.get({type(self.optimizer).__name__}(...))"


class _FromFactory(OptimizerSpec):
    """A function ``params -> torch optimizer`` (a torch.optim class, a ``functools.partial``)."""

    def __init__(self, factory: Callable[[Params], torch.optim.Optimizer]) -> None:
        keywords = getattr(factory, "keywords", None) or {}
        super().__init__(keywords.get("lr", 0.001))
        self.factory = factory

    def build(self, params: Params) -> torch.optim.Optimizer:
        optimizer = self.factory(params)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"the optimizer factory {self.factory!r} returned a {type(optimizer).__name__}, "
                f"not a torch.optim.Optimizer. Fix: pass a function params -> optimizer, "
                f"e.g. functools.partial(torch.optim.SGD, lr=0.1)."
            )
        self._learning_rate = float(optimizer.param_groups[0]["lr"])
        return optimizer

    def __repr__(self) -> str:
        return f"optimizers.get({self.factory!r})"


def get(optimizer: Any) -> OptimizerSpec:
    """Return an optimizer spec for a Keras name, a spec, a torch optimizer or a factory.

    * ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, ``"rprop"`` (any case):
      the spec with Keras defaults;
    * a spec: itself;
    * a ``torch.optim.Optimizer`` instance: a spec whose ``build`` returns it;
    * a callable ``params -> Optimizer`` (a torch.optim class, ``functools.partial(...)``).

    Example:
        >>> import functools
        >>> get("rms_prop")
        RMSprop(learning_rate=0.001)
        >>> SGD(0.1, momentum=0.9, clipnorm=1.0)
        SGD(learning_rate=0.1, momentum=0.9, clipnorm=1.0)
        >>> spec = get(functools.partial(torch.optim.SGD, lr=0.1))
        >>> spec.build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["lr"]
        0.1
    """
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    if isinstance(optimizer, str):
        return OPTIMIZERS.get(optimizer)()
    if isinstance(optimizer, torch.optim.Optimizer):
        return _Prebuilt(optimizer)
    if callable(optimizer):
        return _FromFactory(optimizer)
    raise ConfigError(
        f"optimizer must be a name such as 'adam', an ember.optimizers spec, a torch optimizer "
        f"or a function params -> optimizer, received {optimizer!r}"
    )


def names() -> list[str]:
    """Every optimizer name :func:`get` accepts."""
    return OPTIMIZERS.names()


@torch.no_grad()
def clip_gradients(params: Iterable[torch.Tensor], spec: OptimizerSpec) -> None:
    """Clip the gradients of ``params`` in place as ``spec`` asks (no host sync).

    * ``clipnorm``: each tensor's gradient separately to norm <= clipnorm (Keras):
      ``g * clipnorm / max(||g||, clipnorm)``;
    * ``global_clipnorm``: all gradients together, ``torch.nn.utils.clip_grad_norm_``;
    * ``clipvalue``: each element to [-clipvalue, clipvalue], ``torch.nn.utils.clip_grad_value_``.

    Example:
        >>> weight = torch.nn.Parameter(torch.zeros(2))
        >>> weight.grad = torch.tensor([3.0, 4.0])
        >>> clip_gradients([weight], SGD(clipnorm=1.0))
        >>> weight.grad
        tensor([0.6000, 0.8000])
    """
    params = [p for p in params if p.grad is not None]
    if spec.clipnorm is not None:
        for param in params:
            norm = torch.linalg.vector_norm(param.grad)
            param.grad.mul_(spec.clipnorm / norm.clamp(min=spec.clipnorm))
    if spec.global_clipnorm is not None:
        torch.nn.utils.clip_grad_norm_(params, spec.global_clipnorm)
    if spec.clipvalue is not None:
        torch.nn.utils.clip_grad_value_(params, spec.clipvalue)
