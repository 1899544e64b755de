"""The training engine: Trainer, tasks, callbacks, History."""

from ember.train.callback import Callback
from ember.train.history import History
from ember.train.tasks import Supervised
from ember.train.trainer import Trainer

__all__ = ["Callback", "History", "Supervised", "Trainer"]
