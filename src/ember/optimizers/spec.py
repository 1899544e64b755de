"""The optimizer spec base class, the arguments every spec shares, fused kernels and clipping.

A spec holds the hyper-parameters (Keras names and defaults) and gradient clipping; the trainer
calls ``spec.build(params)`` to get a ``torch.optim`` optimizer and :func:`clip_gradients`
between ``backward`` and ``step``. The concrete specs live in one module per optimizer family;
each takes its own arguments and passes the common ones (:class:`CommonArguments`) on to
:class:`OptimizerSpec`, which checks and stores them.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterable
from typing import Any, ClassVar, TypedDict

import torch

from ember import checks
from ember.errors import ConfigError
from ember.registry import Registry

OPTIMIZERS = Registry("optimizer")
Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]


class CommonArguments(TypedDict, total=False):
    """The keyword-only arguments every spec takes after its own (``**common`` in a spec).

    At most one of the three clipping arguments may be set, as in Keras.
    """

    clipnorm: float | None  # clip each gradient tensor to this norm (Keras' clipnorm)
    clipvalue: float | None  # clip each gradient element to [-clipvalue, clipvalue]
    global_clipnorm: float | None  # clip all gradients together to this norm
    maximize: bool  # step up the objective instead of down (torch's maximize)


class OptimizerSpec:
    """Base of the optimizer specs: learning rate (or schedule), clipping and ``maximize``.

    Subclasses name a ``torch.optim`` class and Keras' default learning rate, take their own
    Keras arguments then ``**common: Unpack[CommonArguments]`` (passed on here), and map their
    arguments to torch's in ``_torch_arguments``. ``learning_rate`` may be a float or an
    :mod:`ember.schedules` schedule, whose initial learning rate then becomes the optimizer's.

    Example:
        >>> from ember.optimizers import SGD
        >>> spec = SGD(learning_rate=0.1, clipnorm=1.0)
        >>> spec.clips, spec.learning_rate, spec.schedule is None
        (True, 0.1, True)
    """

    torch_class: type[torch.optim.Optimizer]
    # Keras' default learning rate: a subclass's default argument, and where a schedule without
    # a starting value (e.g. StepDecay) starts.
    default_learning_rate: ClassVar[float] = 0.001

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
            # A schedule may start at 0 and warm up (Keras' CosineDecay(0.0, warmup_target=...)).
            checks.non_negative_number("learning_rate", self._schedule_start(learning_rate))
        else:
            checks.positive_number("learning_rate", learning_rate)
        clipping = {
            "clipnorm": clipnorm,
            "clipvalue": clipvalue,
            "global_clipnorm": global_clipnorm,
        }
        for name, value in clipping.items():
            checks.positive_number(name, value, allow_none=True)
        chosen = [name for name, value in clipping.items() if value is not None]
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
        return None if checks.is_number(self._learning_rate) else self._learning_rate

    @property
    def learning_rate(self) -> float:
        """The initial learning rate (a schedule's starting value when there is one)."""
        if self.schedule is None:
            return float(self._learning_rate)
        return self._schedule_start(self.schedule)

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

    def _schedule_start(self, schedule: Any) -> float:
        """The initial learning rate of ``schedule``, else this spec's Keras default."""
        value = getattr(schedule, "initial_learning_rate", None)
        return float(self.default_learning_rate if value is None else value)

    def __repr__(self) -> str:
        # The Keras arguments that differ from their defaults (each is stored under its name):
        # the spec's own, then the common ones it passes on as **common.
        shown = [f"learning_rate={self._learning_rate!r}"]
        parameters = {
            **inspect.signature(type(self).__init__).parameters,
            **inspect.signature(OptimizerSpec.__init__).parameters,
        }
        for name, parameter in parameters.items():
            if name in ("self", "learning_rate") or parameter.kind is parameter.VAR_KEYWORD:
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


@torch.no_grad()
def clip_gradients(params: Iterable[torch.Tensor], spec: OptimizerSpec) -> None:
    """Clip the gradients of ``params`` in place as ``spec`` asks (no host sync).

    * ``clipnorm``: each tensor's gradient separately to norm <= clipnorm (Keras):
      ``g * clipnorm / max(||g||, clipnorm)``;
    * ``global_clipnorm``: all gradients together, ``torch.nn.utils.clip_grad_norm_``;
    * ``clipvalue``: each element to [-clipvalue, clipvalue], ``torch.nn.utils.clip_grad_value_``.

    Example:
        >>> from ember.optimizers import SGD
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
