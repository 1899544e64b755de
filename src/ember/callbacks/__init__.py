"""Keras' callbacks for the ember engine: early stopping, checkpoints, LR schedules, logging.

Each is a plain :class:`Callback` with Keras 3's arguments and behaviour. Pass them to
``Model.fit(callbacks=[...])`` or ``Trainer(..., callbacks=[...])``. Epoch logs hold floats
(``loss``, ``accuracy``, ``val_loss`` ...); batch logs hold the step's tensors, and only the
callbacks that need a batch value (``TerminateOnNaN``, batch-level ``TensorBoard`` or
``ModelCheckpoint``) read it from the device.

Where Keras only warns (a monitored value missing from the logs, a bad ``mode``), ember raises
:class:`ember.errors.ConfigError` at the first epoch end, naming the logs that exist and the fix.

Example:
    >>> from ember.callbacks import EarlyStopping, CSVLogger
    >>> callbacks = [EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
    ...              CSVLogger("training.csv")]
"""

from ember.callbacks.checkpoint import ModelCheckpoint
from ember.callbacks.csv_logger import CSVLogger
from ember.callbacks.early_stopping import EarlyStopping
from ember.callbacks.lambda_callback import LambdaCallback
from ember.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from ember.callbacks.sample_grid import SampleGrid
from ember.callbacks.tensorboard import TensorBoard
from ember.callbacks.terminate_on_nan import TerminateOnNaN
from ember.callbacks.text_samples import SampleText
from ember.train.callback import Callback
from ember.train.history import History

__all__ = [
    "Callback",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "CSVLogger",
    "TensorBoard",
    "TerminateOnNaN",
    "LambdaCallback",
    "SampleText",
    "SampleGrid",
]
