"""Adagrad: per-parameter learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ember import checks
from ember.optimizers.spec import OPTIMIZERS, CommonArguments, OptimizerSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack


@OPTIMIZERS.register("adagrad")
class Adagrad(OptimizerSpec):
    """Adagrad -> ``torch.optim.Adagrad``.

    Example:
        >>> Adagrad().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["eps"]
        1e-07
    """

    torch_class = torch.optim.Adagrad
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
        checks.non_negative_number("initial_accumulator_value", initial_accumulator_value)
        checks.positive_number("epsilon", epsilon)
        checks.non_negative_number("weight_decay", weight_decay)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon, self.weight_decay = epsilon, weight_decay

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.epsilon,
            "weight_decay": self.weight_decay,
        }
