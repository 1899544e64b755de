"""Quantization-aware training: fine-tune a classifier through int8 rounding, then make it int8.

The network's graph gets fake-quantize steps (:func:`ember.quantization.prepare_qat`): every
forward pass rounds weights and activations as int8 would, while gradients flow as if it did not
(the straight-through estimator), so the weights learn to sit where int8 rounding costs little.
The step itself is supervised learning (:class:`ember.tasks.Supervised`'s loss and metrics); the
engine does the backward pass and the optimizer step, as for every task.

Example:
    >>> import torch, ember
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    >>> x, y = torch.randn(128, 8), torch.randint(0, 3, (128,))
    >>> task = QuantizationAware(net, x[:4], "sparse_categorical_crossentropy", from_logits=True)
    >>> _ = ember.Trainer(task, "adam", device="cpu").fit((x, y), epochs=1, verbose=0)
    >>> task.convert()(x[:5]).shape
    torch.Size([5, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember import quantization
from ember.tasks.supervised import Supervised
from ember.train.task import Batch, Task


class QuantizationAware(Task):
    """Quantization-aware fine-tuning of ``module`` (a classifier or regressor) with ``loss``.

    Args:
        module: the float network, already trained (QAT fine-tunes; it does not train from
            scratch well).
        example: a few inputs as the network takes them (their shape fixes the graph's).
        loss, metrics, from_logits: as for :class:`ember.tasks.Supervised`.

    ``task.module`` is the fake-quantized graph the engine trains; :meth:`convert` returns the
    int8 graph (:func:`ember.quantization.lower` runs it on oneDNN's kernels).
    """

    def __init__(
        self,
        module: nn.Module,
        example: torch.Tensor,
        loss: Any = "sparse_categorical_crossentropy",
        metrics: Sequence[Any] | None = ("accuracy",),
        *,
        from_logits: bool = False,
    ) -> None:
        super().__init__(quantization.prepare_qat(module, example))
        self.supervised = Supervised(self.module, loss, metrics, from_logits=from_logits)

    @property
    def metrics(self) -> Any:  # the supervised step's, created in setup
        return self.supervised.metrics

    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the data against the network (see :meth:`Supervised.setup`)."""
        self.supervised.setup(example, device)

    def compile(self) -> None:
        """Fake-quantized graphs run as they are (``torch.compile`` adds nothing here)."""

    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The supervised loss through the fake-quantized forward pass."""
        return self.supervised.training_step(batch)

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The same, on validation data."""
        return self.supervised.validation_step(batch)

    def convert(self) -> torch.fx.GraphModule:
        """The fine-tuned network in int8 (a converted graph; see :mod:`ember.quantization`)."""
        return quantization.convert(self.module)
