"""LambdaCallback: a callback made of functions, with Keras' or ember's hook names."""

from __future__ import annotations

from collections.abc import Callable

from ember.errors import ConfigError
from ember.train.callback import HOOKS, Callback
from ember.train.hooks import KERAS_NAMES, RUNNING_MEAN_HOOKS

# Each hook name a function may be given for -> the engine's moment it runs at. A Keras name is
# kept as the attribute's name: the engine calls it as Keras would (its batch-end hooks get
# the epoch's running means, ember's ``on_batch_end`` the step's own outputs).
MOMENTS = {
    **{hook: hook for hook in HOOKS},
    **{keras: hook for hook, names in KERAS_NAMES.items() for keras in names},
    **{keras: hook for hook, keras in RUNNING_MEAN_HOOKS.items()},
}


class LambdaCallback(Callback):
    """A callback made of functions, with Keras' or ember's hook names.

    Every Keras hook name works as in Keras (``on_train_begin``, ``on_train_batch_end`` with the
    epoch's running means, ``on_test_batch_end``, ``on_predict_end`` ...), and so does each of
    ember's (``on_fit_start``, ``on_batch_end`` with the step's own outputs ...). Each function
    takes the hook's arguments: ``(epoch, logs)``, ``(batch, logs)`` or ``(logs)``.

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
            if name not in MOMENTS:
                raise ConfigError(
                    f"LambdaCallback has no hook {name!r}. Fix: use one of {sorted(MOMENTS)}."
                )
            if not callable(function):
                raise ConfigError(f"expected a function for {name}, received {function!r}")
            taken = [other for other in vars(self) if MOMENTS.get(other) == MOMENTS[name]]
            if taken and MOMENTS[name] not in RUNNING_MEAN_HOOKS:
                raise ConfigError(
                    f"LambdaCallback received two functions for one moment: {taken[0]} and "
                    f"{name}. Fix: pass one."
                )
            # Set on the instance: the engine sees the hook as overridden and calls it.
            setattr(self, name, function)
