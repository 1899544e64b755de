"""ember export: ONNX and .pt2 files that match PyTorch, carry their metadata, and fail cleanly."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from ember import recipes
from ember.cli import main
from ember.deploy import export_onnx, export_pt2, export_run
from ember.deploy.onnx_int8 import quantize_onnx_static
from ember.deploy.triton import write_triton_repository
from ember.errors import ConfigError, ExportError, RunError, ShapeError
from ember.runs import training


def probabilities(run, inputs):
    experiment, _ = training.load_experiment(run)
    experiment.network.eval()
    with torch.inference_mode():
        return experiment.predict(inputs), experiment  # the run's own probabilities


def test_onnx_export_matches_pytorch_at_any_batch_size_and_records_its_metadata(run):
    export = export_run(run, "onnx")
    assert export.path == run / "export" / "model.onnx" and export.max_difference < 1e-4
    experiment, _ = training.load_experiment(run)
    session = onnxruntime.InferenceSession(export.path, providers=["CPUExecutionProvider"])
    inputs = experiment.data.test[0]
    for size in (1, 37):
        expected, _ = probabilities(run, inputs[:size])
        received = session.run(None, {"inputs": inputs[:size].numpy()})[0]
        assert received.shape == (size, 10)
        assert np.abs(received - expected.numpy()).max() < 1e-4
    metadata = {p.key: p.value for p in onnx.load(export.path).metadata_props}
    assert json.loads(metadata["class_names"]) == list(experiment.data.class_names)
    assert json.loads(metadata["input_shape"]) == [None, 28, 28, 1]
    assert metadata["checkpoint"] == "last (epoch 1)" and "[0, 1]" in metadata["preprocessing"]


def test_pt2_export_loads_and_matches(run, tmp_path):
    export = export_run(run, "pt2", out=tmp_path / "mlp.pt2")
    experiment, _ = training.load_experiment(run)
    inputs = experiment.data.test[0][:50]
    expected, _ = probabilities(run, inputs)
    received = torch.export.load(export.path).module()(inputs)
    assert torch.allclose(received, expected, atol=1e-6) and export.max_difference < 1e-6


def test_the_command_prints_the_file_and_its_check(run, tmp_path, capsys):
    assert main(["export", str(run), "--out", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'm.onnx'}" in out and "max abs difference" in out


class Branchy(torch.nn.Module):
    """A forward pass that branches on a tensor's value: torch.export cannot trace it."""

    def forward(self, x):
        return x * 2 if x.sum() > 0 else x


@pytest.mark.parametrize("exporter, name", [(export_onnx, "a.onnx"), (export_pt2, "a.pt2")])
def test_an_untraceable_model_is_refused_with_the_other_way_and_leaves_no_file(
    exporter, name, tmp_path
):
    with pytest.raises(ExportError, match=r"could not export Branchy.*Fix: .*--format"):
        exporter(Branchy(), torch.ones(2, 3), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_bad_runs_and_formats_are_refused(run, tmp_path):
    with pytest.raises(ConfigError, match="format"):
        export_run(run, "tflite")
    empty = tmp_path / "no-checkpoint"
    empty.mkdir()
    shutil.copy(run / "config.yaml", empty / "config.yaml")
    (empty / "metrics.jsonl").touch()
    with pytest.raises(RunError, match="no last checkpoint"):
        export_run(empty)


def test_int8_export_is_smaller_keeps_accuracy_and_is_measured_beside_float32(run, tmp_path):
    export = export_run(run, "onnx", out=tmp_path / "m.onnx", int8=True)
    assert export.int8_path == tmp_path / "m.int8.onnx"
    # 784-8-10: the graph's own bytes weigh here; the benchmark's CNN shrinks ~4x
    assert export.path.stat().st_size > 2 * export.int8_path.stat().st_size
    rows = {row.name: row for row in export.comparison}
    assert list(rows) == ["torch fp32", "onnx fp32", "onnx int8"]
    assert rows["onnx fp32"].accuracy == pytest.approx(rows["torch fp32"].accuracy, abs=1e-3)
    assert abs(rows["onnx int8"].accuracy - rows["onnx fp32"].accuracy) < 0.02
    assert all(set(row.latency_ms) == {1, 64} for row in rows.values())
    metadata = {p.key: p.value for p in onnx.load(export.int8_path).metadata_props}
    assert "300 calibration inputs" in metadata["quantization"] and "class_names" in metadata
    operations = {node.op_type for node in onnx.load(export.int8_path).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= operations


def test_int8_refuses_wrong_calibration_shapes_other_formats_and_models_without_layers(
    run, tmp_path
):
    fp32 = export_run(run, "onnx", out=tmp_path / "m.onnx").path
    with pytest.raises(ShapeError, match=r"calibration inputs of shape \(4, 28, 28\)"):
        quantize_onnx_static(fp32, tmp_path / "q.onnx", np.zeros((4, 28, 28), np.float32))
    with pytest.raises(ConfigError, match="--int8 quantizes ONNX"):
        export_run(run, "pt2", int8=True)
    softmax = export_onnx(torch.nn.Softmax(dim=1), torch.zeros(2, 3), tmp_path / "s.onnx")
    with pytest.raises(ConfigError, match="no layer that int8 speeds up"):
        quantize_onnx_static(softmax, tmp_path / "q.onnx", np.zeros((4, 3), np.float32))
    assert not (tmp_path / "q.onnx").exists()


def test_a_triton_repository_matches_the_onnx_file(run, tmp_path, capsys):
    argv = [
        "export",
        str(run),
        "--out",
        str(tmp_path / "m.onnx"),
        "--triton",
        str(tmp_path / "repo"),
    ]
    assert main(argv) == 0
    model = tmp_path / "repo" / "fashion-mlp"
    config = (model / "config.pbtxt").read_text()
    graph = onnx.load(model / "1" / "model.onnx").graph
    assert (
        f'name: "{graph.input[0].name}"' in config and f'name: "{graph.output[0].name}"' in config
    )
    assert 'backend: "onnxruntime"' in config and "dims: [ 28, 28, 1 ]" in config
    assert "dims: [ 10 ]" in config and "dynamic_batching" in config
    experiment, _ = training.load_experiment(run)
    labels = (model / "labels.txt").read_text().splitlines()
    assert labels == list(experiment.data.class_names)
    pt2 = tmp_path / "m.pt2"
    argv = ["export", str(run), "--format", "pt2", "--out", str(pt2), "--triton", str(tmp_path)]
    assert main(argv) == 2
    assert "--triton serves ONNX files" in capsys.readouterr().err
    assert not pt2.exists()  # refused before any work


def test_int8_of_a_text_model_is_dynamic_through_onnx_runtime(tmp_path, monkeypatch):
    from ember.datasets.rotten_tomatoes import LabelledTexts
    from ember.recipes import sentiment_data

    texts = [f"{t} {i}" for i in range(10) for t in ("a fine film", "a dull film")]
    data = LabelledTexts(texts, np.array([1, 0] * 10), ["rotten", "fresh"])
    monkeypatch.setitem(sentiment_data.CORPORA, "rotten_tomatoes", lambda: data)
    recipe = recipes.get("sentiment-lstm")
    config = recipe.config(epochs=1, units=4, embedding_dim=4, batch_size=8, device="cpu")
    training.train(recipe, config, out=tmp_path / "text", verbose=0)
    export = export_run(tmp_path / "text", "onnx", int8=True)  # token ids: nothing to calibrate
    operators = {node.op_type for node in onnx.load(export.int8_path).graph.node}
    assert "DynamicQuantizeLSTM" in operators  # issue #19: dynamic int8 of the LSTM
    assert [row.name for row in export.comparison] == ["torch fp32", "onnx fp32", "onnx int8"]


def test_a_triton_repository_of_a_text_model_takes_int64_token_ids(tmp_path):
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"onnx")
    model = write_triton_repository(
        onnx_file,
        tmp_path / "repo",
        name="text",
        input_shape=(-1,),
        class_names=["neg", "pos"],
        input_dtype="int64",
    )
    config = (model / "config.pbtxt").read_text()
    assert config.count("TYPE_INT64") == 1 and "dims: [ -1 ]" in config
    with pytest.raises(ConfigError, match="input_dtype"):
        write_triton_repository(
            onnx_file,
            tmp_path / "repo2",
            name="t",
            input_shape=(3,),
            class_names=["a"],
            input_dtype="float16",
        )
