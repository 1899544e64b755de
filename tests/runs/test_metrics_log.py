"""metrics.jsonl: torn lines from a killed run are skipped; resume cuts back to the checkpoint."""

from __future__ import annotations

import json
import math

from ember.runs import metrics_log


def test_a_torn_last_line_is_skipped_and_truncate_drops_it(tmp_path):
    path = tmp_path / "metrics.jsonl"
    metrics_log.append(path, {"kind": "epoch", "epoch": 1, "loss": 0.5})
    metrics_log.append(path, {"kind": "epoch", "epoch": 2, "loss": 0.4})
    with open(path, "a") as file:
        file.write('{"kind": "epoch", "epoch": 3, "lo')  # killed mid-write
    assert [r["epoch"] for r in metrics_log.read(path)] == [1, 2]
    metrics_log.truncate(path, 2)
    metrics_log.append(path, {"kind": "epoch", "epoch": 3, "loss": 0.3})
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1, 2, 3]


def test_truncate_removes_later_epochs_and_evaluations(tmp_path):
    path = tmp_path / "metrics.jsonl"
    for epoch in range(1, 5):
        metrics_log.append(path, {"kind": "epoch", "epoch": epoch})
    metrics_log.append(path, {"kind": "evaluation", "split": "test", "epoch": 4})
    metrics_log.truncate(path, 2)
    assert metrics_log.read(path) == [{"kind": "epoch", "epoch": 1}, {"kind": "epoch", "epoch": 2}]


def test_non_finite_values_are_written_as_readable_json(tmp_path):
    path = tmp_path / "metrics.jsonl"
    metrics_log.append(path, {"kind": "epoch", "epoch": 1, "loss": math.nan, "val_loss": math.inf})
    assert metrics_log.read(path) == [
        {"kind": "epoch", "epoch": 1, "loss": "nan", "val_loss": "inf"}
    ]
    assert metrics_log.read(tmp_path / "missing.jsonl") == []
