"""LambdaCallback: a callback made of functions, with Keras' or ember's hook names."""

from __future__ import annotations

from collections.abc import Callable

from ember.errors import ConfigError
from ember.train.callback import HOOKS, Callback

# Keras' hook names -> ember's (``on_test_*`` fire in ``evaluate`` only, not in fit's validation).
KERAS_HOOKS = {
    "on_train_begin": "on_fit_start",
    "on_train_end": "on_fit_end",
    "on_epoch_begin": "on_epoch_start",
    "on_batch_begin": "on_batch_start",
    "on_train_batch_begin": "on_batch_start",
    "on_train_batch_end": "on_batch_end",
    "on_test_begin": "on_evaluate_start",
    "on_test_end": "on_evaluate_end",
}


class LambdaCallback(Callback):
    """A callback made of functions, with Keras' or ember's hook names.

    Keras' ``on_train_begin``, ``on_epoch_begin``, ``on_batch_begin`` ... map to ember's
    ``on_fit_start``, ``on_epoch_start``, ``on_batch_start`` ...; ember's names work as they are.
    Each function takes the hook's arguments: ``(epoch, logs)``, ``(batch, logs)`` or ``(logs)``.

    Example:
        >>> losses = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_batch_begin: Callable | None = None,
        on_batch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        **more: Callable,
    ) -> None:
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_batch_begin": on_batch_begin,
            "on_batch_end": on_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            **more,
        }
        for name, function in given.items():
            if function is None:
                continue
            hook = KERAS_HOOKS.get(name, name)
            if hook not in HOOKS:
                raise ConfigError(
                    f"LambdaCallback has no hook {name!r}. Fix: use one of "
                    f"{sorted(set(HOOKS) | set(KERAS_HOOKS))}."
                )
            if not callable(function):
                raise ConfigError(f"expected a function for {name}, received {function!r}")
            if hook in vars(self):
                raise ConfigError(
                    f"LambdaCallback received two functions for {hook} (one as {name}). "
                    "Fix: pass one."
                )
            # Set on the instance: the engine sees the hook as overridden and calls it.
            setattr(self, hook, function)
