"""One call from a table to a trained :class:`TablePredictor` (fastai's ``tabular_learner``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from ember import checks
from ember.data import train_test_split
from ember.errors import ConfigError
from ember.models import Model
from ember.optimizers import Adam
from ember.seeding import set_seed
from ember.tabular import columns
from ember.tabular.networks import NETWORKS
from ember.tabular.predictor import TablePredictor
from ember.tabular.preprocessing import TablePreprocessor


def fit(
    table: Any,
    target: str | TablePreprocessor,
    *,
    model: str = "mlp",
    validation: float | pd.DataFrame | None = 0.2,
    epochs: int = 20,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    seed: int = 0,
    callbacks: Sequence[Any] | None = None,
    verbose: int | str = "auto",
    **network_options: Any,
) -> TablePredictor:
    """Fit a preprocessor on the training rows and train a network on ember's engine.

    Args:
        table: a DataFrame or a CSV path.
        target: the column to predict, or a :class:`TablePreprocessor` (to name categorical or
            numeric columns or the task); it is fitted on the training rows only.
        model: ``"mlp"`` (:class:`TabularMLP`) or ``"ft_transformer"`` (:class:`FTTransformer`).
        validation: a fraction of the rows held out (stratified by class for classification),
            a DataFrame of validation rows, or None.
        epochs, batch_size, learning_rate: training with Adam.
        seed: seeds the split, the initial weights and the shuffling.
        callbacks, verbose: as for ``Model.fit``.
        network_options: the network's keyword arguments (``hidden=[64]``, ``d_token=32`` ...).

    Returns the predictor; its ``history`` holds the losses (cross-entropy, or the MSE of the
    standardised target) and, for classification, the accuracy.

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> frame = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
        >>> frame["y"] = np.where((frame.x > 0) == (frame.c == "a"), "yes", "no")
        >>> predictor = fit(frame, "y", epochs=2, batch_size=32, verbose=0)
        >>> sorted(predictor.history.history)
        ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    """
    table = columns.read_table(table)
    preprocessor = target if isinstance(target, TablePreprocessor) else TablePreprocessor(target)
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    learning_rate = checks.positive_number("learning_rate", learning_rate)
    seed = checks.non_negative_int("seed", seed)
    network_class = NETWORKS.get(model)
    columns.check_target(table, preprocessor.target)
    given_rows = isinstance(validation, pd.DataFrame)  # the user's rows: say what is unseen
    train, validation = _split(table, preprocessor, validation, seed)

    preprocessor.fit(train)
    x, y = preprocessor.transform(train), preprocessor.targets(train)
    validation_data = None
    if validation is not None:
        # Rows held out of the table hold a few rare values: "unknown", silently.
        held_out = preprocessor.transform(validation, warn=given_rows)
        validation_data = (held_out, preprocessor.targets(validation))
    set_seed(seed)
    network = network_class.from_preprocessor(preprocessor, **network_options)
    if len(x) % batch_size == 1 and _has_batch_norm(network):
        # BatchNorm cannot train on a last batch of one row (fastai drops the last batch).
        x, y = x[:-1], y[:-1]

    classification = preprocessor.task == "classification"
    trainer = Model(network)
    trainer.compile(
        optimizer=Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy" if classification else "mse",
        metrics=["accuracy"] if classification else None,
        from_logits=True,
    )
    history = trainer.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=verbose,
    )
    predictor = TablePredictor(preprocessor, network.eval())
    predictor.history = history
    return predictor


def _split(
    table: pd.DataFrame, preprocessor: TablePreprocessor, validation: Any, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(training rows, validation rows or None)``."""
    if validation is None:
        return table, None
    if isinstance(validation, pd.DataFrame):
        return table, columns.read_table(validation)
    fraction = checks.number_in(
        "validation",
        validation,
        0,
        1,
        closed="()",
        fix="pass a fraction of the rows such as 0.2, a DataFrame, or None",
    )
    target = table[preprocessor.target]
    classification = columns.infer_task(target, preprocessor.task) == "classification"
    indices = np.arange(len(table))
    if classification:
        labels = pd.factorize(target)[0]
        train, held_out, _, _ = train_test_split(
            indices, labels, test_size=fraction, stratify=True, seed=seed
        )
    else:
        train, held_out = train_test_split(indices, test_size=fraction, seed=seed)
    if len(train) == 0 or len(held_out) == 0:
        raise ConfigError(
            f"validation={fraction} of {len(table)} rows leaves an empty part. Fix: pass more "
            f"rows or another fraction."
        )
    return table.iloc[train], table.iloc[held_out]


def _has_batch_norm(network: nn.Module) -> bool:
    return any(isinstance(m, nn.BatchNorm1d) for m in network.modules())
