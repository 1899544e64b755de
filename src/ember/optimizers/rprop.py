"""Rprop: resilient backpropagation, sign-based steps with adaptive sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ember.errors import ConfigError
from ember.optimizers.spec import OPTIMIZERS, CommonArguments, OptimizerSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack


@OPTIMIZERS.register("rprop")
class Rprop(OptimizerSpec):
    """Resilient backpropagation (sign-based steps) -> ``torch.optim.Rprop``; full-batch method.

    Example:
        >>> Rprop().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["etas"]
        (0.5, 1.2)
    """

    torch_class = torch.optim.Rprop
    default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
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
