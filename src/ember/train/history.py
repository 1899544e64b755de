"""The ``History`` that ``fit`` returns."""

from __future__ import annotations

from ember.train.callback import Callback, Logs


class History(Callback):
    """Records each epoch's logs; ``fit`` returns it.

    ``history.history`` maps each log name (``loss``, ``accuracy``, ``val_loss`` ...) to one value per
    epoch, ``history.epoch`` lists the epoch numbers, as in Keras.

    Example:
        >>> h = History()
        >>> h.on_epoch_end(0, {"loss": 0.5})
        >>> h.history
        {'loss': [0.5]}
    """

    def __init__(self) -> None:
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
