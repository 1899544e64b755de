"""Compare runs side by side: a table (the settings that differ, then the scores) and one PNG.

The table has one column per run, named by the shortest end of its path that tells the runs
apart (:func:`short_names`), so that it stays narrow however long the run folders' names are.

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
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from ember.errors import ConfigError
from ember.recipes.config import as_set_text
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
    rows, histories, seen = [], {}, set()
    # The plot's legend names each run as the table does: the shortest part that tells them apart.
    for run_dir, label in zip(map(Path, run_dirs), short_names(run_dirs)):
        _, config = read_config(run_dir)  # raises a clear error for a folder that is not a run
        records = read_metrics(run_dir)
        epochs = epoch_records(records)
        name = run_dir.name if run_dir.name not in seen else str(run_dir)
        seen.add(name)
        histories[label] = epochs
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


def differing_settings(run_dirs: Sequence[str | os.PathLike]) -> dict[str, list[Any]]:
    """The config settings whose values differ between the runs: ``{name: [value per run]}``.

    A run whose ``config.yaml`` lacks a setting has None for it; ``versions`` (the record of the
    packages used) is left out.
    """
    configs = [read_config(run_dir)[1] for run_dir in run_dirs]
    names = dict.fromkeys(name for config in configs for name in config if name != "versions")
    values = {name: [config.get(name) for config in configs] for name in names}
    return {name: row for name, row in values.items() if len({repr(v) for v in row}) > 1}


def short_names(run_dirs: Sequence[str | os.PathLike]) -> list[str]:
    """The shortest ends of the runs' paths, cut at ``-``, ``_`` or ``/``, that tell them apart.

    Example:
        >>> short_names(["runs/mlp-20250101-120000", "runs/mlp-20250101-123000"])
        ['120000', '123000']
        >>> short_names(["a/run", "b/run"])
        ['a/run', 'b/run']
    """
    paths = [Path(run_dir).as_posix() for run_dir in run_dirs]
    pieces = [re.split(r"(?<=[-_/])", path) for path in paths]
    for count in range(1, max(map(len, pieces)) + 1):
        names = ["".join(parts[-count:]) for parts in pieces]
        if len(set(names)) == len(names):
            return names
    return [f"{path} ({index})" for index, path in enumerate(paths, start=1)]  # a run twice


def format_comparison(
    rows: Sequence[dict[str, Any]],
    settings: dict[str, list[Any]] | None = None,
    names: Sequence[str] | None = None,
) -> Table:
    """A rich table of :func:`compare_runs`'s rows with one column per run (``names``, default
    each row's ``run``): first the ``settings`` that differ (:func:`differing_settings`), then
    the scores, four decimals each, "—" where a run has none.

    Example:
        >>> rows = [{"run": "a", "epochs": 3, "test_accuracy": 0.91234},
        ...         {"run": "b", "epochs": 1, "test_accuracy": 0.5}]
        >>> table = format_comparison(rows, {"dropout": [0.2, 0.5]})
        >>> [column.header for column in table.columns]
        ['', 'a', 'b']
        >>> list(table.columns[0].cells), list(table.columns[1].cells)
        (['dropout', 'epochs done', 'test accuracy'], ['0.2', '3', '0.9123'])
    """
    recipes = list(dict.fromkeys(row.get("recipe") for row in rows))
    title = f"{recipes[0]} runs compared" if len(recipes) == 1 and recipes[0] else "runs compared"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("")
    for name in names or [str(row["run"]) for row in rows]:
        table.add_column(name, justify="right")
    if len(recipes) > 1:
        settings = {"recipe": [row.get("recipe") for row in rows], **(settings or {})}
    for name, values in (settings or {}).items():
        table.add_row(name, *map(as_set_text, values))
    if settings:
        table.add_section()
    keys = dict.fromkeys(key for row in rows for key in row if key not in ("run", "recipe"))
    for key in keys:
        label = "epochs done" if key == "epochs" else key.replace("_", " ")
        table.add_row(label, *(_cell(row.get(key)) for row in rows))
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
