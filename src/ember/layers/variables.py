"""``Variable``: the weight ``Layer.add_weight`` makes, a torch ``Parameter`` with Keras' methods.

Keras layers update state in place with ``self.total.assign_add(...)`` (a running sum, a
counter); a ``Variable`` does that without gradients, and is otherwise the ``nn.Parameter`` that
optimizers, ``state_dict`` and safetensors know.

Example:
    >>> import torch
    >>> total = Variable(torch.zeros(2), requires_grad=False)
    >>> total.assign_add(torch.tensor([1.0, 2.0])).tolist()
    [1.0, 2.0]
    >>> total.value is total, total.numpy().tolist()
    (True, [1.0, 2.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class Variable(nn.Parameter):
    """A layer weight with Keras' ``assign``, ``assign_add``, ``assign_sub``, ``value`` and
    ``numpy()``; the assignments run without gradients, in place."""

    def assign(self, value: Any) -> Variable:
        """Set every element to ``value`` (broadcast)."""
        with torch.no_grad():
            self.copy_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_add(self, delta: Any) -> Variable:
        """Add ``delta`` in place."""
        with torch.no_grad():
            self.add_(torch.as_tensor(delta, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, delta: Any) -> Variable:
        """Subtract ``delta`` in place."""
        with torch.no_grad():
            self.sub_(torch.as_tensor(delta, dtype=self.dtype, device=self.device))
        return self

    @property
    def value(self) -> Variable:
        """The variable itself (Keras' ``variable.value``)."""
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:  # type: ignore[override]
        """A numpy copy of the values (Keras' ``variable.numpy()``; no gradient needed)."""
        return self.detach().cpu().numpy().copy()
