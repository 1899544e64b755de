"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ember import checks
from ember.errors import ConfigError
from ember.optimizers.spec import OPTIMIZERS, CommonArguments, OptimizerSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack


@OPTIMIZERS.register("sgd")
class SGD(OptimizerSpec):
    """Stochastic gradient descent, optionally with (Nesterov) momentum -> ``torch.optim.SGD``.

    Example:
        >>> spec = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> spec.build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["nesterov"]
        True
    """

    torch_class = torch.optim.SGD
    default_learning_rate = 0.01

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
        checks.number_in("momentum", momentum, 0, 1)
        checks.non_negative_number("weight_decay", weight_decay)
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
