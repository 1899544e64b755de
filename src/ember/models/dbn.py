"""Deep belief network: RBMs stacked and pretrained greedily, then fine-tuned as an MLP.

Hinton, Osindero and Teh (2006): train an RBM on the data; train a second RBM on the first one's
hidden probabilities; and so on. Each layer learns features of the layer below without labels.
The stack's weights then initialise a sigmoid MLP, which a softmax head and ordinary
backpropagation fine-tune on the (perhaps few) labelled examples. Every stage runs on the one
engine: pretraining is :class:`ember.Trainer` with a
:class:`~ember.tasks.contrastive_divergence.ContrastiveDivergence` task, fine-tuning is ``Sequential.fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember.data.batches import to_tensor
from ember.errors import ConfigError, ShapeError
from ember.layers import Dense, Flatten
from ember.models.sequential import Sequential
from ember.optimizers import SGD
from ember.tasks.contrastive_divergence import ContrastiveDivergence
from ember.train.history import History
from ember.train.trainer import Trainer
from ember.zoo.rbm import BernoulliRBM


class DeepBeliefNetwork(nn.Module):
    """A stack of Bernoulli RBMs: ``visible -> hidden[0] -> hidden[1] -> ...``.

    Calling it maps ``(N, V)`` vectors or ``(N, H, W, C)`` images in [0, 1] to the top layer's
    hidden probabilities, ``(N, hidden[-1])``.

    Args:
        visible: values per sample of the data (784 for 28x28 images).
        hidden: hidden units of each RBM, bottom to top.

    Example:
        >>> import torch
        >>> dbn = DeepBeliefNetwork(visible=16, hidden=(8, 4))
        >>> x = torch.bernoulli(torch.full((64, 4, 4, 1), 0.3))
        >>> histories = dbn.pretrain(x, epochs=2, batch_size=16, verbose=0, device="cpu")
        >>> len(histories), dbn(x).shape
        (2, torch.Size([64, 4]))
        >>> classifier = dbn.to_classifier(num_classes=3)  # Flatten, Dense x2 (sigmoid), softmax
        >>> classifier(x).shape
        torch.Size([64, 3])
    """

    def __init__(self, visible: int, hidden: Sequence[int] | int = (500, 200)) -> None:
        super().__init__()
        sizes = (hidden,) if isinstance(hidden, int) and not isinstance(hidden, bool) else hidden
        if (
            not isinstance(sizes, Sequence)
            or not sizes
            or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in sizes)
        ):
            raise ConfigError(
                f"expected hidden to be positive integers, one per RBM, received "
                f"hidden={hidden!r}. Fix: e.g. hidden=(500, 200)."
            )
        bottoms = [visible, *sizes[:-1]]
        self.rbms = nn.ModuleList(BernoulliRBM(a, b) for a, b in zip(bottoms, sizes))
        # The per-sample shape pretrain saw, so that to_classifier accepts the same data.
        self.input_shape: tuple[int, ...] | None = None

    @property
    def visible(self) -> int:
        """Values per sample the bottom RBM takes."""
        return self.rbms[0].visible

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Hidden probabilities of the top RBM, each layer driven by the one below's."""
        for rbm in self.rbms:
            x = rbm(x)
        return x

    def pretrain(
        self,
        x: Any,
        *,
        epochs: int = 10,
        batch_size: int = 64,
        learning_rate: float = 0.1,
        k: int = 1,
        verbose: int = 1,
        device: str | torch.device = "auto",
    ) -> list[History]:
        """Greedy layer-wise pretraining by CD-``k``; returns one :class:`History` per RBM.

        RBM 1 trains on ``x`` (values in [0, 1]; labels are not used), each next RBM on the
        hidden probabilities of the one below, each for ``epochs`` epochs of SGD with momentum
        0.5 (Hinton's guide, §9). For other optimizers or persistent CD, train the RBMs in
        ``self.rbms`` yourself with ``ember.Trainer`` and ``ContrastiveDivergence``.
        """
        data = to_tensor(x, "x")
        self.input_shape = tuple(data.shape[1:])
        # Built before anything trains, so that a bad setting fails before the first step.
        trainers = [
            Trainer(
                ContrastiveDivergence(rbm, k=k),
                SGD(learning_rate, momentum=0.5),
                epochs=epochs,
                device=device,
            )
            for rbm in self.rbms
        ]
        histories = []
        for index, trainer in enumerate(trainers):
            histories.append(trainer.fit(data, batch_size=batch_size, verbose=verbose))
            if index + 1 < len(trainers):
                # The next RBM's data: this one's features, computed once (no sampling).
                data = trainer.predict(data, batch_size=max(batch_size, 1024))
        return histories

    def to_classifier(
        self, num_classes: int, *, input_shape: Sequence[int] | None = None
    ) -> Sequential:
        """An MLP initialised from the stack, with a softmax head, ready to compile and fit.

        Layers: ``Flatten``, one ``Dense(hidden, activation="sigmoid")`` per RBM holding a copy
        of its weights and hidden biases (so its activations are the RBM's hidden
        probabilities), and a freshly initialised ``Dense(num_classes, activation="softmax")``.
        ``input_shape`` defaults to the per-sample shape ``pretrain`` saw, else ``(visible,)``.
        The visible biases are not used: an MLP only runs upwards.
        """
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ConfigError(
                f"expected an integer of at least 2, received num_classes={num_classes!r}. Fix: "
                f"pass the number of classes (2 for a yes/no task, with sparse labels 0 and 1)."
            )
        shape = tuple(input_shape or self.input_shape or (self.visible,))
        if int(torch.Size(shape).numel()) != self.visible:
            raise ShapeError(
                f"input_shape={shape} holds {torch.Size(shape).numel()} values per sample, but "
                f"the bottom RBM has {self.visible} visible units. Fix: pass an input_shape "
                f"whose values multiply to {self.visible}."
            )
        dense = [Dense(rbm.hidden, activation="sigmoid") for rbm in self.rbms]
        head = Dense(num_classes, activation="softmax")
        model = Sequential([Flatten(input_shape=shape), *dense, head], name="dbn_classifier")
        with torch.no_grad():  # the Sequential built itself, as its input shape is known
            for layer, rbm in zip(dense, self.rbms):
                layer.weight.copy_(rbm.weight)  # both (hidden, visible): Dense's layout
                layer.bias.copy_(rbm.hidden_bias)
        return model
