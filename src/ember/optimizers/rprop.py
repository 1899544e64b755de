"""Rprop: resilient backpropagation, sign-based steps with adaptive sizes."""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError
from ember.optimizers.spec import OPTIMIZERS, OptimizerSpec


# The spec mirrors its Keras signature, hence more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to every spec.
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
