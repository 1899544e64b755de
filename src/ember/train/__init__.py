"""The training engine: ``Trainer``, the task contract (``Task``, ``Objective``), callbacks, History.

A task says how one step turns a batch into named losses (see :mod:`ember.train.task`); the
Trainer runs any task: devices, precision, every backward pass and optimizer step, schedules,
callbacks. The tasks ember ships live in :mod:`ember.tasks`.
"""

from ember.train.callback import Callback
from ember.train.history import History
from ember.train.task import Objective, Task
from ember.train.trainer import Trainer

__all__ = ["Callback", "History", "Objective", "Task", "Trainer"]
