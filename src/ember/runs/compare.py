"""Compare runs side by side: one summary row per run and one PNG overlaying their curves.

Example:
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name, accuracy in (("small", 0.8), ("large", 0.9)):
    ...     run = folder / name
    ...     run.mkdir()
    ...     _ = (run / "config.yaml").write_text("recipe: demo\\nepochs: 1\\n")
    ...     lines = [{"kind": "epoch", "epoch": 1, "loss": 0.5, "val_accuracy": accuracy},
    ...              {"kind": "evaluation", "split": "test", "accuracy": accuracy}]
    ...     _ = (run / "metrics.jsonl").write_text("\\n".join(map(json.dumps, lines)))
    >>> rows = compare_runs([folder / "small", folder / "large"], folder / "compare.png")
    >>> [(row["run"], row["test_accuracy"]) for row in rows]
    [('small', 0.8), ('large', 0.9)]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from ember.errors import ConfigError
from ember.runs import plots
from ember.runs.report import epoch_records, last_evaluation, read_config, read_metrics


def compare_runs(
    run_dirs: Sequence[str | os.PathLike], out_png: str | os.PathLike
) -> list[dict[str, Any]]:
    """One row per run (name, recipe, epochs done, final test metrics, best validation scores).

    Also saves one PNG at ``out_png`` overlaying the runs' validation loss and accuracy per
    epoch (training curves, marked "(train)", for a run without validation). Every row has the
    same keys, in the same order; a value a run did not log is None. Test metrics are the last
    test evaluation's, prefixed ``test_``; ``best_val_loss`` is the lowest validation loss and
    ``best_val_accuracy`` the highest validation accuracy.
    """
    if isinstance(run_dirs, (str, os.PathLike)) or len(run_dirs) == 0:
        raise ConfigError(f"expected a list of run folders to compare, received {run_dirs!r}")
    rows, histories = [], {}
    for run_dir in map(Path, run_dirs):
        _, config = read_config(run_dir)  # raises a clear error for a folder that is not a run
        records = read_metrics(run_dir)
        epochs = epoch_records(records)
        name = run_dir.name if run_dir.name not in histories else str(run_dir)
        histories[name] = epochs
        row: dict[str, Any] = {
            "run": name,
            "recipe": config.get("recipe"),
            "epochs": epochs[-1]["epoch"] if epochs else 0,
        }
        for key, value in (last_evaluation(records, "test") or {}).items():
            if key not in plots.NOT_METRICS and plots.as_float(value) is not None:
                row[f"test_{key}"] = plots.as_float(value)
        row["best_val_loss"] = _best(epochs, "val_loss", min)
        row["best_val_accuracy"] = _best(epochs, "val_accuracy", max)
        rows.append(row)
    plots.plot_comparison(histories, out_png)
    keys = list(dict.fromkeys(key for row in rows for key in row))  # union, first-seen order
    keys.sort(key=lambda key: key.startswith("best_"))  # stable: best_* stay last
    return [{key: row.get(key) for key in keys} for row in rows]


def format_comparison(rows: Sequence[dict[str, Any]]) -> Table:
    """A rich table of :func:`compare_runs`'s rows, for the ``ember compare`` command to print.

    Example:
        >>> table = format_comparison([{"run": "a", "epochs": 3, "test_accuracy": 0.91234}])
        >>> [column.header for column in table.columns]
        ['run', 'epochs', 'test accuracy']
        >>> list(table.columns[2].cells)
        ['0.9123']
    """
    keys = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(title="runs compared")
    for key in keys:
        numeric = any(plots.as_float(row.get(key)) is not None for row in rows)
        table.add_column(key.replace("_", " "), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key in keys))
    return table


def _best(epochs: list[dict], key: str, choose: Any) -> float | None:
    values = [plots.as_float(record.get(key)) for record in epochs]
    values = [value for value in values if value is not None and value == value]  # drop NaN
    return choose(values) if values else None


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
