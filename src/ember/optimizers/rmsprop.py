"""RMSprop: gradients scaled by a running root-mean-square of their history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ember import checks
from ember.optimizers.spec import OPTIMIZERS, CommonArguments, OptimizerSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack


@OPTIMIZERS.register("rmsprop")
class RMSprop(OptimizerSpec):
    """RMSprop -> ``torch.optim.RMSprop`` (Keras ``rho`` is torch's ``alpha``).

    Example:
        >>> RMSprop(rho=0.95).build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["alpha"]
        0.95
    """

    torch_class = torch.optim.RMSprop
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float = 0.0,
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
        checks.number_in("rho", rho, 0, 1)
        checks.number_in("momentum", momentum, 0, 1)
        checks.positive_number("epsilon", epsilon)
        checks.non_negative_number("weight_decay", weight_decay)
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
