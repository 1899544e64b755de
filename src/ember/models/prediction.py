"""What ``Model.predict`` does: text through the attached tokenizer, batches, test-time
augmentation, Keras' predict hooks, and numpy out for numpy (or text) in: an array, or a
list, tuple or dict of them (a model with several inputs), as Keras returns numpy.

Example:
    >>> import numpy as np, torch, ember
    >>> model = ember.Model(torch.nn.Linear(3, 2))
    >>> predict_outputs(model, np.zeros((4, 3), "float32"), None, None, None).shape
    (4, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ember.data.structure import leaves, map_structure
from ember.data.test_time import with_test_time_augmentation
from ember.errors import DataError
from ember.models import fit_arguments
from ember.models.call_arguments import with_model
from ember.models.devices import device_of
from ember.nlp.text_inputs import is_text_batch
from ember.train.task import Task
from ember.train.trainer import Trainer


def predict_outputs(
    model: Any,
    x: Any,
    batch_size: int | None,
    tta: Any,
    callbacks: Sequence[Any] | None,
) -> Any:
    """``model``'s outputs for ``x`` (see :meth:`ember.Model.predict`)."""
    as_numpy = isinstance(x, list) or any(isinstance(leaf, np.ndarray) for leaf in leaves(x))
    if is_text_batch(x):
        as_numpy = True  # like Keras: text in, numpy out
        if model.text_encoding is None:
            raise DataError(
                "predict received text, but this model has no tokenizer. Fix: "
                "model.set_tokenizer(tokenizer) with the tokenizer its training ids came from."
            )
        x = model.text_encoding.encode(x)
    # predict() before compile(): the base task only runs the module (any outputs).
    trainer = model.trainer or Trainer(Task(model.network), device=device_of(model))
    size = fit_arguments.batch_size_or_default(batch_size)
    data = fit_arguments.batches_for(model, x, None, size, False, None, trainer.device)
    using = None if tta is None else with_test_time_augmentation(model.network, tta)
    callbacks = with_model(callbacks, model)  # their predict hooks run in the engine's pass
    outputs = trainer.predict(data, using=using, callbacks=callbacks)
    outputs = map_structure(lambda t: t.cpu(), outputs)
    return map_structure(lambda t: t.numpy(), outputs) if as_numpy else outputs
