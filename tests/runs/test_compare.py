"""Comparing runs: one row per run with the right numbers, one PNG overlaying the curves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from ember.errors import ConfigError, RunError
from ember.runs import plots
from ember.runs.compare import (
    compare_runs,
    differing_settings,
    format_comparison,
    short_names,
)
from ember.runs.report import epoch_records, read_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_run(folder: Path, epochs: list[dict], test: dict | None, recipe: str = "fashion-mlp"):
    """A run folder holding only what comparing reads: config.yaml and metrics.jsonl."""
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"recipe: {recipe}\nepochs: 10\n")
    lines = [
        {"kind": "epoch", "epoch": index + 1, "time": 1.0} | e for index, e in enumerate(epochs)
    ]
    if test is not None:
        lines.append(
            {"kind": "evaluation", "split": "test", "checkpoint": "last", "time": 0.5} | test
        )
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / "metrics.jsonl").write_text(text + '{"kind": "evalu')  # torn last line


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    validated = tmp_path / "mlp-a"
    write_run(
        validated,
        [
            {"loss": 0.9, "accuracy": 0.6, "val_loss": 0.8, "val_accuracy": 0.70},
            {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.82},
            {"loss": 0.4, "accuracy": 0.85, "val_loss": 0.7, "val_accuracy": 0.80},
        ],
        {"loss": 0.65, "accuracy": 0.81, "f1": 0.79},
    )
    no_validation = tmp_path / "cnn-b"
    write_run(no_validation, [{"loss": 0.7, "accuracy": 0.75}], {"loss": 0.3, "accuracy": 0.9})
    stopped = tmp_path / "cnn-c"
    write_run(stopped, [{"loss": 1.1, "val_loss": 1.0}, {"loss": 0.9, "val_loss": 0.95}], None, "x")
    return [validated, no_validation, stopped]


def test_compare_runs_gives_one_row_per_run_with_final_and_best_scores(
    runs: list[Path], tmp_path: Path
) -> None:
    rows = compare_runs(runs, tmp_path / "compare.png")
    assert rows == [
        {
            "run": "mlp-a",
            "recipe": "fashion-mlp",
            "epochs": 3,
            "test_loss": 0.65,
            "test_accuracy": 0.81,
            "test_f1": 0.79,
            "best_val_loss": 0.6,
            "best_val_accuracy": 0.82,
        },
        {
            "run": "cnn-b",
            "recipe": "fashion-mlp",
            "epochs": 1,
            "test_loss": 0.3,
            "test_accuracy": 0.9,
            "test_f1": None,
            "best_val_loss": None,
            "best_val_accuracy": None,
        },
        {
            "run": "cnn-c",
            "recipe": "x",
            "epochs": 2,
            "test_loss": None,
            "test_accuracy": None,
            "test_f1": None,
            "best_val_loss": 0.95,
            "best_val_accuracy": None,
        },
    ]
    assert (tmp_path / "compare.png").read_bytes()[:8] == PNG_MAGIC


def test_comparison_plot_overlays_validation_curves_and_marks_training_ones(
    runs: list[Path], tmp_path: Path
) -> None:
    histories = {run.name: epoch_records(read_metrics(run)) for run in runs}
    figure = plots.plot_comparison(histories, tmp_path / "compare.png")
    loss, accuracy = figure.axes
    assert (loss.get_title(), accuracy.get_title()) == ("loss", "accuracy")
    assert [line.get_label() for line in loss.lines] == ["mlp-a", "cnn-b (train)", "cnn-c"]
    assert list(loss.lines[0].get_ydata()) == [0.8, 0.6, 0.7]  # validation, not training
    assert [line.get_label() for line in accuracy.lines] == ["mlp-a", "cnn-b (train)"]
    assert list(accuracy.lines[1].get_ydata()) == [0.75]


def test_compare_runs_refuses_an_empty_list_and_folders_that_are_not_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a list of run folders"):
        compare_runs([], tmp_path / "compare.png")
    with pytest.raises(RunError, match="not an ember run"):
        compare_runs([tmp_path], tmp_path / "compare.png")
    assert not (tmp_path / "compare.png").exists()


def test_format_comparison_prints_four_decimals_and_a_dash_for_missing_values() -> None:
    rows = [
        {"run": "a", "epochs": 3, "test_accuracy": 0.812345, "best_val_loss": None},
        {"run": "b", "epochs": 1, "test_accuracy": 0.9, "best_val_loss": 0.25},
    ]
    table = format_comparison(rows)  # one column per run, one row per score
    headers = [column.header for column in table.columns]
    assert headers == ["", "a", "b"]
    cells = [list(column.cells) for column in table.columns]
    assert cells == [
        ["epochs done", "test accuracy", "best val loss"],
        ["3", "0.8123", "—"],
        ["1", "0.9000", "0.2500"],
    ]
    assert [column.justify for column in table.columns] == ["left", "right", "right"]


def test_the_settings_that_differ_come_first_and_the_shared_ones_not_at_all(
    runs: list[Path],
) -> None:
    for run, dropout in zip(runs, ("0.2", "0.5", "0.2")):
        (run / "config.yaml").write_text(
            f"recipe: fashion-mlp\nepochs: 10\ndropout: {dropout}\nwidths: [32, 64]\n"
            "versions:\n  torch: '2.0'\n"
        )
    (runs[2] / "config.yaml").write_text("recipe: x\nepochs: 10\nwidths: [32, 128]\n")
    settings = differing_settings(runs)
    assert settings == {
        "recipe": ["fashion-mlp", "fashion-mlp", "x"],
        "dropout": [0.2, 0.5, None],
        "widths": [[32, 64], [32, 64], [32, 128]],
    }
    rows = compare_runs(runs, runs[0].parent / "compare.png")
    table = format_comparison(rows, settings, short_names(runs))
    labels = list(table.columns[0].cells)
    assert labels[:4] == ["recipe", "dropout", "widths", "epochs done"]
    assert list(table.columns[3].cells)[:3] == ["x", "none", "32,128"]
    assert [column.header for column in table.columns] == ["", "a", "b", "c"]


@pytest.mark.parametrize(
    ("paths", "names"),
    [
        (["runs/mlp-20250101-120000", "runs/mlp-20250101-120001"], ["120000", "120001"]),
        (["runs/mlp-20250101-120000", "runs/mlp-20250101-120000-2"], ["120000", "2"]),
        (["a/run", "b/run"], ["a/run", "b/run"]),
        (["a/mlp-1", "b/cnn-1"], ["mlp-1", "cnn-1"]),
        (["same", "same"], ["same (1)", "same (2)"]),
    ],
)
def test_short_names_are_the_shortest_ends_that_tell_the_runs_apart(paths, names) -> None:
    assert short_names(paths) == names


def test_the_table_of_eight_timestamped_runs_fits_in_100_columns(tmp_path: Path) -> None:
    runs = []
    for index in range(8):
        run = tmp_path / f"fashion-mlp-20250101-1200{index:02d}"
        write_run(run, [{"loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.8}], {"accuracy": 0.8})
        runs.append(run)
    rows = compare_runs(runs, tmp_path / "compare.png")
    console = Console(width=300, record=True)
    console.print(format_comparison(rows, differing_settings(runs), short_names(runs)))
    assert max(len(line) for line in console.export_text().splitlines()) <= 100
