"""``fine_tune``: fastai's two-phase recipe for adapting a pretrained model to a new task.

1. *Frozen*: every weight but the head's is frozen (:func:`~ember.transfer.freeze`; batch-norm
   layers use their running statistics, as in Keras) and the new head trains for
   ``frozen_epochs`` with a one-cycle schedule peaking at ``base_learning_rate``. The backbone
   gets no gradients, no optimizer state and no backward pass.
2. *Unfrozen*: everything trains for ``epochs`` with a one-cycle schedule peaking at
   ``base_learning_rate / 2`` for the head and ``/ ratio`` less for the first layer group,
   geometrically spaced in between (:func:`~ember.transfer.discriminative_learning_rates`).

Each phase is a fresh :class:`ember.Trainer` on the compiled model's task (its loss and
metrics, device, precision and ``jit_compile``), with ``ember.optimizers.Adam`` cycling its
``beta_1`` as fastai does. Afterwards every weight is trainable and carries no ``lr_scale``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember import checks
from ember.data.batches import as_batches
from ember.errors import NotCompiledError
from ember.models import Model, fit_arguments
from ember.optimizers import Adam
from ember.schedules import OneCycle
from ember.train.history import History
from ember.train.trainer import Trainer
from ember.transfer.freezing import freeze, unfreeze
from ember.transfer.heads import head_of
from ember.transfer.layer_groups import clear_learning_rate_scales, discriminative_learning_rates


def fine_tune(
    model: Model,
    x: Any,
    y: Any = None,
    *,
    frozen_epochs: int = 1,
    epochs: int = 1,
    base_learning_rate: float = 2e-3,
    ratio: float = 100.0,
    batch_size: int | None = None,
    validation_data: Any = None,
    verbose: int | str = "auto",
    callbacks: Sequence[Any] | None = None,
) -> History:
    """Train ``model``'s head alone, then the whole model with discriminative learning rates.

    Args:
        model: a compiled :class:`ember.Model` (or ``Sequential``) whose network has a head
            :func:`~ember.transfer.head_of` finds (replace it first with
            :func:`~ember.transfer.replace_head` for a new number of classes).
        x, y, batch_size, validation_data, verbose, callbacks: as in ``Model.fit``; the
            callbacks serve both phases.
        frozen_epochs: epochs of the head alone (0 skips the phase).
        epochs: epochs of the whole model (0 skips the phase).
        base_learning_rate: the head's peak learning rate in the frozen phase (fastai's 2e-3);
            halved in the unfrozen phase.
        ratio: how many times slower the first layer group learns than the head, unfrozen.

    Returns:
        One :class:`History` over both phases (epochs numbered on), also ``model.history``.

    Example:
        >>> import torch, ember
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        >>> model = ember.Model(net)
        >>> model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        ...               from_logits=True, device="cpu")
        >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
        >>> history = fine_tune(model, x, y, frozen_epochs=1, epochs=2, batch_size=16, verbose=0)
        >>> history.epoch, sorted(history.history)
        ([0, 1, 2], ['accuracy', 'loss'])
    """
    if not isinstance(model, Model) or model.task is None or model.trainer is None:
        raise NotCompiledError(
            f"fine_tune trains a compiled ember.Model, received {type(model).__name__}"
            f"{'' if isinstance(model, Model) else ' (not an ember.Model)'}. Fix: "
            f"model = ember.Model(network); model.compile(loss=..., metrics=[...]) first."
        )
    checks.non_negative_int("frozen_epochs", frozen_epochs)
    checks.non_negative_int("epochs", epochs)
    checks.positive_number("base_learning_rate", base_learning_rate)
    checks.positive_number("ratio", ratio)
    verbose = fit_arguments.verbosity(verbose)
    network, engine = model.network, model.trainer
    _, head = head_of(network)  # fails here, before any training, when there is none
    size = fit_arguments.batch_size_or_default(batch_size)
    train = as_batches(x, y, batch_size=size, shuffle=True, device=engine.device)
    val = None
    if validation_data is not None:
        val_x, val_y, val_weight = fit_arguments.unpack_validation(validation_data)
        val = as_batches(
            val_x, val_y, batch_size=size, device=engine.device, sample_weight=val_weight
        )
    for callback in callbacks or ():
        if hasattr(callback, "set_model"):  # as Model.fit does: Keras callbacks see the model
            callback.set_model(model)
    history = History()
    compile_forward = engine.compile

    def phase(epochs: int, schedule: OneCycle) -> None:
        nonlocal compile_forward
        trainer = Trainer(
            model.task,
            Adam(learning_rate=schedule),
            precision=engine.precision,
            compile=compile_forward,
            device=engine.device,
        )
        compile_forward = False  # the task's forward is compiled now: not wrapped twice
        done = trainer.fit(
            train,
            val,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
        _append(history, done)

    if frozen_epochs:
        freeze(network)
        unfreeze(head)
        clear_learning_rate_scales(network)
        # fastai's frozen phase warms up for almost the whole run (pct_start=0.99).
        phase(frozen_epochs, OneCycle(base_learning_rate, 0.99, cycle_momentum=True))
    if epochs:
        unfreeze(network)
        discriminative_learning_rates(network, ratio)
        phase(epochs, OneCycle(base_learning_rate / 2, 0.3, cycle_momentum=True))
    unfreeze(network)
    clear_learning_rate_scales(network)
    model.history = history
    return history


def _append(history: History, phase: History) -> None:
    """Add ``phase``'s epochs to ``history``, numbered after those it holds."""
    start = len(history.epoch)
    for index, epoch in enumerate(phase.epoch):
        logs = {name: values[index] for name, values in phase.history.items()}
        history.on_epoch_end(start + epoch, logs)
