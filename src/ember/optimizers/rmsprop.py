"""RMSprop: gradients scaled by a running root-mean-square of their history."""

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


# The spec mirrors its Keras signature, hence more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to every spec.
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
