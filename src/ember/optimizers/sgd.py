"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError
from ember.optimizers.spec import OPTIMIZERS, OptimizerSpec, _check_fraction, _check_weight_decay


# The spec mirrors its Keras signature, hence more than ~7 arguments; the last four
# (clipnorm, clipvalue, global_clipnorm, maximize) are common to every spec.
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
