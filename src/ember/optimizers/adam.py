"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

from typing import Any

import torch

from ember.optimizers.spec import (
    OPTIMIZERS,
    OptimizerSpec,
    _check_fraction,
    _check_positive,
    _check_weight_decay,
)


def _check_adam(beta_1: float, beta_2: float, epsilon: float, weight_decay: float) -> None:
    _check_fraction("beta_1", beta_1)
    _check_fraction("beta_2", beta_2)
    _check_positive("epsilon", epsilon)
    _check_weight_decay(weight_decay)


def _adam_arguments(spec: Adam | AdamW) -> dict[str, Any]:
    """The ``torch.optim.Adam``/``AdamW`` arguments of ``spec`` (Adam and AdamW store the same)."""
    return {
        "betas": (spec.beta_1, spec.beta_2),
        "eps": spec.epsilon,
        "amsgrad": spec.amsgrad,
        "weight_decay": spec.weight_decay,
    }


# Each spec mirrors its Keras signature, hence more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to every spec.
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
        _check_adam(beta_1, beta_2, epsilon, weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad, self.weight_decay = bool(amsgrad), weight_decay
        if weight_decay:
            self.torch_class = torch.optim.AdamW

    def _torch_arguments(self) -> dict[str, Any]:
        return _adam_arguments(self)


@OPTIMIZERS.register("adamw")
class AdamW(OptimizerSpec):
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
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            maximize=maximize,
        )
        _check_adam(beta_1, beta_2, epsilon, weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad, self.weight_decay = bool(amsgrad), weight_decay
        # torch_class stays AdamW, also when weight_decay=0

    def _torch_arguments(self) -> dict[str, Any]:
        return _adam_arguments(self)
