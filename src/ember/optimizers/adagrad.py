"""Adagrad: per-parameter learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError
from ember.optimizers.spec import OPTIMIZERS, OptimizerSpec, _check_positive, _check_weight_decay


# The spec mirrors its Keras signature, hence more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to every spec.
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
