"""TerminateOnNaN: stop training as soon as a batch loss is NaN or infinite."""

from __future__ import annotations

import math

from ember.callbacks.monitoring import to_float
from ember.train.callback import Callback, Logs


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite.

    Reads the loss from the device after every batch (as Keras does), so add it only when
    you need it.

    Example:
        >>> callbacks = [TerminateOnNaN()]
    """

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(to_float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.trainer.stop_training = True
