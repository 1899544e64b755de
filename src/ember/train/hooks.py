"""Attaching callbacks to a loop and calling their hooks: shared by ``Trainer.fit`` and agents.

A loop (the engine's, or an agent's in :mod:`ember.rl`) attaches its callbacks once per run,
adding the progress bar when ``verbose``; only the hooks a callback overrides are called.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.train.callback import HOOKS, overrides
from ember.train.progress import ProgressBar

Hooks = dict[str, list[Any]]


def attach(callbacks: Sequence[Any], owner: Any, verbose: int) -> Hooks:
    """Point each callback (and a progress bar when ``verbose``) at ``owner``; return, per hook
    name, the callbacks that override it.

    Example:
        >>> from ember.train.callback import Callback
        >>> class Counter(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print("epoch", epoch)
        >>> hooks = attach([Counter()], owner=object(), verbose=0)
        >>> call(hooks, "on_epoch_end", 0, {}); len(hooks["on_batch_end"])
        epoch 0
        0
    """
    callbacks = [*callbacks, *([ProgressBar(verbose)] if verbose else [])]
    for callback in callbacks:
        if hasattr(callback, "set_trainer"):
            callback.set_trainer(owner)
        else:
            callback.trainer = owner
    names = {hook: (hook, *KERAS_NAMES.get(hook, ())) for hook in HOOKS}
    names.update({hook: (hook,) for hook in RUNNING_MEAN_HOOKS.values()})
    return {
        hook: [
            getattr(callback, name)
            for callback in callbacks
            for name in aliases
            if overrides(callback, name)
        ]
        for hook, aliases in names.items()
    }


# Keras' names for the same moments (a Keras callback runs unchanged); same arguments. Keras'
# ``on_predict_end``, ``on_predict_batch_end`` and ``on_batch_end`` are ember's names too.
KERAS_NAMES = {
    "on_fit_start": ("on_train_begin",),
    "on_fit_end": ("on_train_end",),
    "on_epoch_start": ("on_epoch_begin",),
    "on_batch_start": ("on_train_batch_begin", "on_batch_begin"),
    "on_evaluate_start": ("on_test_begin",),
    "on_evaluate_end": ("on_test_end",),
    "on_evaluate_batch_start": ("on_test_batch_begin",),
    "on_predict_start": ("on_predict_begin",),
    "on_predict_batch_start": ("on_predict_batch_begin",),
}

# Keras' batch-end hooks are hooks of their own, by the ember hook they follow: Keras passes
# them the epoch's running means of the loss and metrics (ember.train.batch_logs), where
# ember's ``on_batch_end``/``on_evaluate_batch_end`` get the step's own outputs.
RUNNING_MEAN_HOOKS = {
    "on_batch_end": "on_train_batch_end",
    "on_evaluate_batch_end": "on_test_batch_end",
}


def call(hooks: Hooks, hook: str, *args: Any) -> None:
    """Call ``hook`` on every callback that overrides it (or Keras' name for it), in order."""
    for method in hooks[hook]:
        method(*args)
