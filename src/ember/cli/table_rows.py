"""``ember predict RUN rows.csv``: predictions for raw table rows with a ``tabular-*`` run.

The run's preprocessing (fitted on its training rows) turns each raw row into the network's
input, as :class:`ember.tabular.TablePredictor` does: categories it never saw become "unknown",
missing values are imputed. A classification run prints the top classes of each row, a
regression run the predicted value; ``--csv OUT`` writes the rows with the predictions appended.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rich.console import Console

from ember.deploy.inputs import top_k_lines
from ember.errors import ConfigError
from ember.files import atomic_path
from ember.recipes.tabular import TableData
from ember.runs import training
from ember.tabular import TablePredictor, read_table


def is_table_request(files: list[Path]) -> bool:
    """Whether ``files`` are CSV tables (all of them; a mix is an error)."""
    tables = [path.suffix.lower() == ".csv" for path in files]
    if any(tables) and not all(tables):
        raise ConfigError(
            "ember predict takes either CSV tables or images/.npy arrays, received both. "
            "Fix: predict them in two commands."
        )
    return bool(tables) and all(tables)


def predict_table_rows(args: argparse.Namespace, console: Console) -> int:
    """Print (or write with ``--csv``) the predictions of every row of ``args.files``."""
    frames = [read_table(path) for path in args.files]  # a missing file fails before loading
    experiment, _ = training.load_experiment(args.run, args.checkpoint)
    data = experiment.data
    if not isinstance(data, TableData):
        raise ConfigError(
            f"{args.run} is not a table run, so it cannot read CSV rows. Fix: pass a run of a "
            f"tabular-* recipe, or images/.npy arrays to this one."
        )
    predictor = TablePredictor(data.preprocessor, experiment.network.cpu())
    classify = data.preprocessor.task == "classification"
    results = []
    for path, frame in zip(args.files, frames):
        with warnings.catch_warnings(record=True) as caught:  # unseen categories, said once
            warnings.simplefilter("always")
            predicted = predictor.predict(frame)  # (N, classes) or (N,)
        for warning in caught:
            console.print(f"[yellow]note[/]: {path.name}: {warning.message}")
        if data.log_target:
            predicted = np.exp(predicted)
        names = [f"{path.name} row {i + 1}" for i in range(len(frame))]
        if args.csv is None and classify:
            lines = top_k_lines(names, torch.from_numpy(predicted), data.class_names, args.top_k)
        elif args.csv is None:
            target = data.preprocessor.target
            lines = [f"{name}: {target} {value:,.4g}" for name, value in zip(names, predicted)]
        for line in [] if args.csv is not None else lines:
            console.print(line)
        results.append(_with_predictions(frame, predicted, data, classify))
    if args.csv is not None:
        table = pd.concat(results, ignore_index=True)
        with atomic_path(args.csv) as temporary:
            table.to_csv(temporary, index=False)
        console.print(f"wrote {len(table)} predictions to {args.csv}")
    return 0


def _with_predictions(
    frame: pd.DataFrame, predicted: np.ndarray, data: TableData, classify: bool
) -> pd.DataFrame:
    out = frame.copy()
    target = data.preprocessor.target
    if classify:
        out[f"predicted_{target}"] = [data.class_names[i] for i in predicted.argmax(1)]
        for index, name in enumerate(data.class_names):
            out[f"probability_{name}"] = predicted[:, index]
    else:
        out[f"predicted_{target}"] = predicted
    return out
