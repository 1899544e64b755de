"""Text classifiers (sentiment-lstm: a masked bidirectional LSTM) deploy like image ones: ONNX and
.pt2 exports that match PyTorch, strings through ember.Predictor, dynamic int8 through ONNX
Runtime with its side-by-side table, and clear refusals."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from ember import layers, models, recipes
from ember.deploy import Predictor, export_onnx, export_pt2, export_run, quantize_run
from ember.errors import ConfigError, ExportError, ShapeError
from ember.runs import training

TEXTS = ["A gem of a film, warm and funny.", "Dull, long and pointless.", "fine"]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    recipe = recipes.get("sentiment-lstm")
    config = recipe.config(
        epochs=1,
        train_samples=640,
        embedding_dim=8,
        units=4,
        max_length=24,
        truncate=True,
        device="cpu",
    )
    folder = tmp_path_factory.mktemp("text") / "sentiment"
    training.train(recipe, config, out=folder, verbose=0)
    return folder


@pytest.mark.parametrize("format", ["onnx", "pt2"])
def test_a_text_run_exports_and_predicts_strings_as_pytorch_does(text_run, tmp_path, format):
    export = export_run(text_run, format, out=tmp_path / f"model.{format}")
    assert export.samples > 100 and export.max_difference < 1e-5  # ids padded with 0: masked
    assert (tmp_path / "tokenizer.json").is_file()
    if format == "onnx":
        dims = onnx.load(export.path).graph.input[0].type.tensor_type.shape.dim
        assert [d.dim_param for d in dims] == ["batch", "steps"]
        assert dims and onnx.load(export.path).graph.input[0].type.tensor_type.elem_type == (
            onnx.TensorProto.INT64
        )
        assert "tokenizer.json" in export.metadata["preprocessing"]
    exported, pytorch = Predictor(export.path), Predictor(text_run)
    np.testing.assert_allclose(exported.predict(TEXTS), pytorch.predict(TEXTS), atol=1e-5)
    streamed = np.stack(list(exported.stream(iter(TEXTS), batch_size=2)))
    np.testing.assert_allclose(streamed, pytorch.predict(TEXTS), atol=1e-5)
    experiment, _ = training.load_experiment(text_run)
    ids = experiment.data.test[0][:5].numpy().astype(np.int32)  # any integer type is taken
    np.testing.assert_allclose(exported.predict(ids), pytorch.predict(ids), atol=1e-5)
    with pytest.raises(ShapeError, match="token ids right-padded with 0"):
        exported.predict(ids[:, :10])


def test_dynamic_int8_of_a_text_run_goes_through_onnx_runtime(text_run, tmp_path):
    result = quantize_run(text_run, "dynamic", out=tmp_path / "int8", batch_sizes=(1, 4))
    assert sorted(p.name for p in result.folder.iterdir()) == [
        "comparison.txt",
        "model.int8.onnx",
        "model.onnx",
        "quantization.json",
        "tokenizer.json",
    ]
    assert result.path == result.folder / "model.int8.onnx"
    operators = {node.op_type for node in onnx.load(result.path).graph.node}
    assert {"DynamicQuantizeLSTM", "MatMulInteger"} <= operators and "LSTM" not in operators
    rows = {row.name: row for row in result.comparison}
    assert list(rows) == ["torch fp32", "onnx fp32", "onnx int8"]
    experiment, _ = training.load_experiment(text_run)
    labels = experiment.data.val[1].numpy()
    probabilities = Predictor(text_run).predict(experiment.data.val[0])
    expected_loss = -np.log(probabilities[np.arange(len(labels)), labels]).mean()
    assert rows["torch fp32"].loss == pytest.approx(expected_loss, rel=1e-5)  # validation
    assert rows["onnx fp32"].loss == pytest.approx(expected_loss, rel=1e-4)
    assert abs(rows["onnx int8"].loss - expected_loss) < 0.02 * expected_loss
    assert rows["onnx int8"].size_bytes < rows["onnx fp32"].size_bytes / 2  # int8 embedding
    assert "onnx int8" in result.table and "loss" in result.table.splitlines()[0]
    record = json.loads((result.folder / "quantization.json").read_text())
    assert record["runtime"] == "onnxruntime" and record["measured_on"] == "validation"
    assert result.measured_on == "validation"
    int8 = Predictor(result.path)
    assert int8.kind == "onnx int8"
    agree = int8.predict(experiment.data.val[0]).argmax(1) == probabilities.argmax(1)
    assert agree.mean() > 0.97


def test_text_runs_refuse_calibrated_int8_and_files_without_a_tokenizer_refuse_text(
    text_run, tmp_path
):
    for method in ("static", "qat"):
        with pytest.raises(ConfigError, match="--method dynamic"):
            quantize_run(text_run, method, out=tmp_path / method)
    assert not (tmp_path / "static").exists()
    network = models.Sequential([layers.Embedding(30, 4, mask_zero=True), layers.LSTM(3)])
    network(torch.ones(2, 5, dtype=torch.long))
    path = export_onnx(network.eval(), torch.ones(2, 5, dtype=torch.long), tmp_path / "m.onnx")
    with pytest.raises(ConfigError, match="no tokenizer to encode texts"):
        Predictor(path).predict(["some words"])


def test_a_network_that_fixes_the_length_cannot_export_a_dynamic_steps_axis(tmp_path):
    network = models.Sequential([layers.Embedding(30, 4), layers.Flatten(), layers.Dense(2)]).eval()
    example = torch.ones(2, 6, dtype=torch.long)
    network(example)
    with pytest.raises(ExportError, match="dynamic steps axis: the network fixes it at 6"):
        export_onnx(network, example, tmp_path / "m.onnx", dynamic_axes=("batch", "steps"))
    assert not (tmp_path / "m.onnx").exists()
    with pytest.raises(ExportError, match="could not export Sequential to pt2"):
        export_pt2(network, example, tmp_path / "m.pt2", dynamic_axes=("batch", "steps"))
    assert export_onnx(network, example, tmp_path / "m.onnx").is_file()  # batch axis only
