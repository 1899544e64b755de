"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ember import checks
from ember.optimizers.spec import OPTIMIZERS, CommonArguments, OptimizerSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack


class _AdamFamily(OptimizerSpec):
    """What Adam and AdamW share: the same arguments (in a different order), checks and storage."""

    def _set_adam_arguments(
        self, beta_1: float, beta_2: float, epsilon: float, amsgrad: bool, weight_decay: float
    ) -> None:
        checks.number_in("beta_1", beta_1, 0, 1)
        checks.number_in("beta_2", beta_2, 0, 1)
        checks.positive_number("epsilon", epsilon)
        checks.non_negative_number("weight_decay", weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.amsgrad, self.weight_decay = bool(amsgrad), weight_decay

    def _torch_arguments(self) -> dict[str, Any]:
        return {
            "betas": (self.beta_1, self.beta_2),
            "eps": self.epsilon,
            "amsgrad": self.amsgrad,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adam")
class Adam(_AdamFamily):
    """Adam -> ``torch.optim.Adam``, or ``torch.optim.AdamW`` when ``weight_decay > 0``.

    Keras 3 decays weights decoupled from the gradient for every optimizer, which for Adam is
    exactly AdamW.

    Example:
        >>> optimizer = Adam(learning_rate=0.01).build(torch.nn.Linear(2, 1).parameters())
        >>> optimizer.param_groups[0]["betas"]
        (0.9, 0.999)
    """

    torch_class = torch.optim.Adam
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float = 0.0,
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
        self._set_adam_arguments(beta_1, beta_2, epsilon, amsgrad, weight_decay)
        if weight_decay:
            self.torch_class = torch.optim.AdamW


@OPTIMIZERS.register("adamw")
class AdamW(_AdamFamily):
    """Adam with decoupled weight decay (Keras default 0.004) -> ``torch.optim.AdamW``.

    Example:
        >>> AdamW().build(torch.nn.Linear(2, 1).parameters()).param_groups[0]["weight_decay"]
        0.004
    """

    torch_class = torch.optim.AdamW
    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate: Any = default_learning_rate,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **common: Unpack[CommonArguments],
    ) -> None:
        super().__init__(learning_rate, **common)
        self._set_adam_arguments(beta_1, beta_2, epsilon, amsgrad, weight_decay)
        # torch_class stays AdamW, also when weight_decay=0
