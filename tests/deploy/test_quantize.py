"""ember quantize: an int8 folder whose program matches the run's network, a side-by-side table,
quantization-aware fine-tuning on the engine, and clean refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ember.cli import main
from ember.deploy import Predictor, quantize_run
from ember.errors import ConfigError, RunError
from ember.runs import training


def test_the_command_writes_an_int8_folder_that_predicts_like_the_run(run, tmp_path, capsys):
    folder = tmp_path / "int8"
    argv = ["quantize", str(run), "--method", "static", "--out", str(folder), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "inductor int8" in printed and "vs fp32" in printed and "use: batch 1:" in printed
    assert sorted(p.name for p in folder.iterdir()) == [
        "comparison.txt",
        "model.int8.onnx",
        "model.int8.pt2",
        "model.onnx",
        "quantization.json",
    ]
    record = json.loads((folder / "quantization.json").read_text())
    rows = {row["name"]: row for row in record["rows"]}
    assert set(rows) == {"torch fp32", "inductor fp32", "inductor int8", "onnx fp32", "onnx int8"}
    assert record["method"] == "static" and record["calibration_samples"] == 300
    assert abs(rows["inductor int8"]["accuracy"] - rows["torch fp32"]["accuracy"]) < 0.02
    assert rows["inductor int8"]["size_bytes"] > 0
    assert set(rows["torch fp32"]["latency_ms"]) == {"1", "64"}  # JSON keys

    experiment, _ = training.load_experiment(run)
    images = experiment.data.test[0][:300].numpy()
    int8 = Predictor(folder / "model.int8.pt2")
    assert int8.kind == "pt2 int8" and int8.class_names == list(experiment.data.class_names)
    expected = Predictor(run).predict(images)
    received = int8.predict(images)
    assert np.abs(received - expected).max() < 0.05
    assert (received.argmax(1) == expected.argmax(1)).mean() > 0.97

    before = sorted(p.stat().st_mtime_ns for p in folder.iterdir())
    assert main(argv) == 2  # the folder exists: refused, and left as it was
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.stat().st_mtime_ns for p in folder.iterdir()) == before


def test_qat_fine_tunes_on_the_engine_and_records_its_history(run, tmp_path):
    result = quantize_run(run, "qat", out=tmp_path / "qat", epochs=1, onnx=False, batch_sizes=(4,))
    assert [row.name for row in result.comparison] == [
        "torch fp32",
        "inductor fp32",
        "inductor int8",
    ]
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    fp32, int8 = result.comparison[0].accuracy, result.comparison[2].accuracy
    assert int8 > fp32 - 0.03  # fine-tuning through int8 rounding keeps the accuracy
    experiment, _ = training.load_experiment(run)  # the run's own weights are untouched
    fresh = Predictor(run).predict(experiment.data.test[0][:50].numpy())
    assert np.isfinite(fresh).all()
    assert json.loads((result.folder / "quantization.json").read_text())["epochs"] == 1


def test_bad_requests_are_refused_before_any_work(run, tmp_path):
    with pytest.raises(ConfigError, match="expected method in"):
        quantize_run(run, "int4", out=tmp_path / "q")
    with pytest.raises(ConfigError, match="positive"):
        quantize_run(run, "qat", out=tmp_path / "q", epochs=0)
    empty = tmp_path / "no-checkpoint"
    empty.mkdir()
    shutil.copy(run / "config.yaml", empty / "config.yaml")
    (empty / "metrics.jsonl").touch()
    with pytest.raises(RunError, match="no last checkpoint"):
        quantize_run(empty, "static", out=tmp_path / "q")
    assert not (tmp_path / "q").exists()
