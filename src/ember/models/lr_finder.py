"""The learning-rate range test (Leslie Smith 2015; fastai's ``lr_find``), run on the engine.

The lr grows exponentially from ``start_lr`` to ``end_lr`` over ``num_steps`` training batches
while the (smoothed) loss is recorded; the test stops early once the loss explodes. The lr is the
base rate: param groups with an ``lr_scale`` (discriminative learning rates, see
``ember.transfer``) learn at it times their scale, as in training. The model's
weights, the optimizer's state and the random number generators are put back afterwards, so the
test leaves no trace. It is an ordinary :class:`~ember.train.callback.Callback` driven by the
one training engine (:class:`~ember.train.trainer.Trainer`), not a second loop.

Example:
    >>> import torch
    >>> from ember.tasks.supervised import Supervised
    >>> net = torch.nn.Linear(3, 1)
    >>> x = torch.randn(512, 3); y = x @ torch.ones(3, 1)
    >>> task = Supervised(net, "mse")
    >>> result = find_learning_rate(task, (x, y), optimizer="sgd", num_steps=50, device="cpu")
    >>> 1e-4 < result.suggestion < 10
    True
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember import optimizers as optimizer_specs
from ember.callbacks.learning_rate import set_learning_rate
from ember.data.batches import DeviceBatches, TensorBatches, as_batches, has_length
from ember.errors import ConfigError
from ember.files import atomic_path
from ember.train.callback import Callback, Logs
from ember.train.precision import resolve_device
from ember.train.trainer import Trainer


@dataclass
class LRFinderResult:
    """What the range test saw: one entry per training batch.

    Attributes:
        learning_rates: the lr of each batch (growing exponentially).
        losses: the smoothed loss after each batch (what is plotted and searched).
        raw_losses: each batch's loss as computed.
        suggestion: fastai's "valley" suggestion on the smoothed loss (see
            :func:`valley_learning_rate`): inside the longest descent, before the steepest part
            ends; None if fewer than 5 batches ran.

    Example:
        >>> result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, 2.0], [1.0, 0.5, 2.0])
        >>> result.suggestion is None
        True
    """

    learning_rates: list[float]
    losses: list[float]
    raw_losses: list[float]
    suggestion: float | None = field(default=None)

    def __post_init__(self) -> None:
        if self.suggestion is None:
            self.suggestion = valley_learning_rate(self.learning_rates, self.losses)

    def plot(self, path: str | os.PathLike | None = None, ax: Any = None) -> Any:
        """Plot the smoothed loss against the lr (log axis), suggestion marked; return the figure.

        Saves a PNG (or the format ``path``'s suffix names) when ``path`` is given, atomically.
        Uses matplotlib's Agg canvas, so it needs no display.

        Example:
            >>> result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, 2.0], [1.0, 0.5, 2.0])
            >>> result.plot().axes[0].get_xscale()
            'log'
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if ax is None:
            figure = Figure(figsize=(6, 4))
            FigureCanvasAgg(figure)
            ax = figure.add_subplot()
        figure = ax.figure
        ax.plot(self.learning_rates, self.losses, label="smoothed loss")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        if self.suggestion is not None:
            index = self.learning_rates.index(self.suggestion)
            ax.plot(
                [self.suggestion],
                [self.losses[index]],
                "o",
                color="tab:red",
                label=f"suggestion (valley): {self.suggestion:.2e}",
            )
        ax.legend()
        if path is not None:
            _save_atomically(figure, Path(path))
        return figure


def valley_learning_rate(learning_rates: list[float], losses: list[float]) -> float | None:
    """fastai's "valley" suggestion: the lr about halfway along the longest descent of ``losses``.

    The longest decreasing run (as a longest decreasing subsequence, so that noise does not cut it)
    is searched after leaving out the first 10% of the points (the smoothing has not settled) and
    the last 5 (divergence), as fastai's ``lr_find`` does. Unlike the steepest-slope suggestion,
    it is not thrown off by one noisy step. None when fewer than 5 points are given.

    Example:
        >>> lrs = [10.0 ** k for k in range(-6, 2)]
        >>> valley_learning_rate(lrs, [1.0, 1.0, 1.0, 0.7, 0.4, 0.2, 3.0, 9.0])
        0.0001
    """
    if len(learning_rates) < 5:
        return None
    count = len(losses)
    first = count // 10
    last = count - 5 if count - 5 - first >= 10 else count
    lrs = np.asarray(learning_rates[first:last], dtype=float)
    values = np.nan_to_num(np.asarray(losses[first:last], dtype=float), nan=np.inf)
    # lengths[i]: the longest strictly decreasing subsequence ending at point i.
    lengths = np.ones(len(values), dtype=int)
    longest_end = 0
    for i in range(1, len(values)):
        higher = values[:i] > values[i]
        if higher.any():
            lengths[i] = lengths[:i][higher].max() + 1
        if lengths[i] > lengths[longest_end]:
            longest_end = i
    longest_start = max(longest_end - lengths[longest_end], 0)  # fastai's (approximate) start
    section = (longest_end - longest_start) / 3
    return float(lrs[longest_start + int(section) + int(section / 2)])


class LearningRateRangeTest(Callback):
    """The callback behind :func:`find_learning_rate`: sets the lr before each batch, records the
    loss after it, stops the trainer when the loss explodes or ``num_steps`` batches have run.

    Snapshots the weights and the optimizer state at ``on_fit_start`` (after the trainer built
    lazy layers and the optimizer); :meth:`restore` puts them back.

    Example:
        >>> test = LearningRateRangeTest(start_lr=1e-5, end_lr=1.0, num_steps=3)
        >>> [round(test.learning_rate(step), 6) for step in range(3)]
        [1e-05, 0.003162, 1.0]
    """

    def __init__(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int = 100,
        smooth: float = 0.98,
        diverge: float = 4.0,
    ) -> None:
        self.start_lr, self.end_lr, self.num_steps = start_lr, end_lr, num_steps
        self.smooth, self.diverge = smooth, diverge
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self.raw_losses: list[float] = []
        self._average = 0.0
        self._best = math.inf
        self._saved: tuple[dict, dict | None] | None = None

    def learning_rate(self, step: int) -> float:
        """The lr of batch ``step``: exponential from ``start_lr`` (step 0) to ``end_lr``."""
        fraction = step / max(self.num_steps - 1, 1)
        return self.start_lr * (self.end_lr / self.start_lr) ** fraction

    def on_fit_start(self, logs: Logs | None = None) -> None:
        optimizer = self.trainer.optimizer
        self._saved = (
            copy.deepcopy(self.model.state_dict()),
            None if optimizer is None else copy.deepcopy(optimizer.state_dict()),
        )

    def on_batch_start(self, batch: int, logs: Logs | None = None) -> None:
        # The base rate: param groups with an lr_scale (discriminative learning rates) keep
        # their ratios, and the rates recorded are the base.
        set_learning_rate(self.trainer.optimizer, self.learning_rate(len(self.learning_rates)))

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        step = len(self.learning_rates)
        loss = float(logs["loss"].detach())  # one host read per step: the test needs every loss
        self._average = self.smooth * self._average + (1 - self.smooth) * loss
        smoothed = self._average / (1 - self.smooth ** (step + 1))  # bias-corrected EMA
        self.learning_rates.append(self.learning_rate(step))
        self.raw_losses.append(loss)
        self.losses.append(smoothed)
        self._best = min(self._best, smoothed)
        exploded = not math.isfinite(smoothed) or smoothed > self.diverge * self._best
        if exploded or step + 1 >= self.num_steps:
            self.trainer.stop_training = True

    def restore(self) -> None:
        """Put back the weights and optimizer state saved at the start of the test."""
        if self._saved is None:
            return
        model_state, optimizer_state = self._saved
        self.model.load_state_dict(model_state)
        if optimizer_state is not None:
            self.trainer.optimizer.load_state_dict(optimizer_state)


def find_learning_rate(
    trainer_or_task: Any,
    data: Any,
    *,
    optimizer: Any = "adam",
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    batch_size: int = 32,
    smooth: float = 0.98,
    diverge: float = 4.0,
    device: str | torch.device = "auto",
) -> LRFinderResult:
    """Run the learning-rate range test; return the lrs, losses and a suggested lr.

    Args:
        trainer_or_task: a :class:`~ember.train.trainer.Trainer` or a compiled ember ``Model``
            (its task, optimizer, device and precision are used; its callbacks are not run), or
            a task such as ``ember.Supervised(module, loss)``.
        data: training data, anything ``Trainer.fit`` accepts.
        optimizer: used with a task: a name, spec or torch optimizer (ignored for a trainer).
        start_lr, end_lr: the lr range, covered exponentially over ``num_steps`` batches.
        smooth: the loss's exponential-moving-average factor (fastai's 0.98).
        diverge: stop once the smoothed loss exceeds ``diverge`` times the lowest seen.
        device: used with a task (a trainer keeps its own).

    A learning-rate schedule on the optimizer is ignored for the test. Weights, optimizer state
    and RNG states are restored afterwards, also when the test fails.

    Example:
        >>> from ember.tasks.supervised import Supervised
        >>> net = torch.nn.Linear(2, 1)
        >>> x = torch.randn(256, 2); y = x.sum(1, keepdim=True)
        >>> task = Supervised(net, "mse")
        >>> result = find_learning_rate(task, (x, y), num_steps=20, device="cpu")
        >>> len(result.learning_rates) <= 20
        True
    """
    _check_arguments(start_lr, end_lr, num_steps, smooth, diverge)
    if isinstance(getattr(trainer_or_task, "trainer", None), Trainer):  # a compiled ember Model
        trainer_or_task = trainer_or_task.trainer
    if isinstance(trainer_or_task, Trainer):
        source = trainer_or_task
        task, precision, device = source.task, source.precision, source.device
        # A trainer's optimizer, once built, is tested in place (and restored afterwards).
        spec = source.optimizer if source.optimizer is not None else source.optimizer_spec
    else:
        task, precision, device = trainer_or_task, "32", resolve_device(device)
        spec = optimizer
    if len(task.objectives()) > 1:
        raise ConfigError(
            f"the learning-rate range test needs a task with one optimizer, received a "
            f"{type(task).__name__} with {len(task.objectives())} objectives. Fix: run it on a "
            f"task with one loss."
        )
    spec = optimizer_specs.get(spec)
    if spec.schedule is not None:
        spec = spec.without_schedule()  # the test sets the lr itself

    if isinstance(data, (TensorBatches, DeviceBatches)):  # ready batches, e.g. from Model.lr_find
        batches = data
    else:
        batches = as_batches(data, batch_size=batch_size, shuffle=True, device=device)
    source_data = batches.source if isinstance(batches, DeviceBatches) else batches
    sized = isinstance(batches, TensorBatches) or has_length(source_data)
    epochs = math.ceil(num_steps / max(len(batches), 1)) if sized else 1
    steps_per_epoch = None if sized else num_steps
    range_test = LearningRateRangeTest(start_lr, end_lr, num_steps, smooth, diverge)
    trainer = Trainer(task, spec, precision=precision, device=device)

    module = task.module
    was_training = module.training
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        try:
            trainer.fit(
                batches,
                epochs=epochs,
                callbacks=[range_test],
                verbose=0,
                steps_per_epoch=steps_per_epoch,
            )
        finally:
            range_test.restore()
            module.train(was_training)
    return LRFinderResult(range_test.learning_rates, range_test.losses, range_test.raw_losses)


def _check_arguments(
    start_lr: float, end_lr: float, num_steps: int, smooth: float, diverge: float
) -> None:
    if not isinstance(start_lr, (int, float)) or not start_lr > 0:
        raise ConfigError(f"expected a positive number, received start_lr={start_lr!r}")
    if not isinstance(end_lr, (int, float)) or not end_lr > start_lr:
        raise ConfigError(
            f"expected end_lr > start_lr, received start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise ConfigError(f"expected an integer >= 2, received num_steps={num_steps!r}")
    if not isinstance(smooth, (int, float)) or not 0 <= smooth < 1:
        raise ConfigError(f"expected a number in [0, 1), received smooth={smooth!r}")
    if not isinstance(diverge, (int, float)) or not diverge > 1:
        raise ConfigError(f"expected a number > 1, received diverge={diverge!r}")


def _save_atomically(figure: Any, path: Path) -> None:
    file_format = path.suffix[1:].lower() or "png"
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=file_format, dpi=100, bbox_inches="tight")
