"""ember.Predictor: the same answers from a run, its ONNX, int8 and .pt2 files; CSV and streams."""

from __future__ import annotations

import csv
import itertools
import time

import numpy as np
import pytest
from PIL import Image

import ember
from ember.cli import main
from ember.deploy import export_run
from ember.errors import ConfigError, ShapeError
from ember.runs import training


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    folder = tmp_path_factory.mktemp("predictor")
    onnx = export_run(run, "onnx", out=folder / "m.onnx", int8=True)
    pt2 = export_run(run, "pt2", out=folder / "m.pt2")
    return {"onnx": onnx.path, "int8": onnx.int8_path, "pt2": pt2.path}


def test_every_form_of_the_model_answers_alike(run, exported):
    experiment, _ = training.load_experiment(run)
    images = experiment.data.test[0][:200].numpy()
    reference = ember.Predictor(run)
    expected = reference.predict(images)
    assert reference.kind == "pytorch" and expected.shape == (200, 10)
    for key in ("onnx", "pt2"):
        assert np.abs(ember.Predictor(exported[key]).predict(images) - expected).max() < 1e-4
    int8 = ember.Predictor(exported["int8"])
    assert int8.kind == "onnx int8"
    # this one-epoch model's probabilities are nearly flat, so compare them, not the argmax
    assert np.abs(int8.predict(images) - expected).max() < 0.05
    onnx = ember.Predictor(exported["onnx"])
    assert onnx.class_names == reference.class_names and onnx.input_shape == (28, 28, 1)


def test_files_to_csv(run, exported, tmp_path):
    experiment, _ = training.load_experiment(run)
    images = experiment.data.test[0][:3].numpy()
    np.save(tmp_path / "one.npy", images[0])
    np.save(tmp_path / "two.npy", images[1:3])
    Image.fromarray((images[0, ..., 0] * 255).astype(np.uint8)).save(tmp_path / "shoe.png")
    predictor = ember.Predictor(exported["onnx"])
    files = [tmp_path / "one.npy", tmp_path / "two.npy", tmp_path / "shoe.png"]
    rows = predictor.predict_files(files, tmp_path / "out.csv")
    with open(tmp_path / "out.csv") as handle:
        written = list(csv.DictReader(handle))
    assert [r["name"] for r in written] == ["one.npy", "two.npy[0]", "two.npy[1]", "shoe.png"]
    expected = predictor.predict(images)
    assert [r["class"] for r in rows[:3]] == [predictor.class_names[i] for i in expected.argmax(1)]
    assert float(written[1]["probability"]) == pytest.approx(expected[1].max(), rel=1e-5)

    # a folder, read two files at a time, from the command line
    chunked = predictor.predict_files([tmp_path], batch_size=2)
    assert [r["name"] for r in chunked] == ["one.npy", "shoe.png", "two.npy[0]", "two.npy[1]"]
    assert main(["predict", str(run), str(tmp_path), "--csv", str(tmp_path / "cli.csv")]) == 0
    with open(tmp_path / "cli.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 4
    with pytest.raises(ConfigError, match="no image"):
        predictor.predict_files([tmp_path / "missing-folder-is-a-file.txt"][:0])


def test_a_stream_answers_in_order_with_bounded_read_ahead(run, exported):
    experiment, _ = training.load_experiment(run)
    images = experiment.data.test[0][:100].numpy()
    predictor = ember.Predictor(exported["onnx"])
    streamed = np.stack(list(predictor.stream(iter(images), batch_size=8)))
    assert np.allclose(streamed, predictor.predict(images), atol=1e-6)

    pulled = itertools.count()

    def endless():
        while True:
            next(pulled)
            yield images[0]

    answers = predictor.stream(endless(), batch_size=8)
    next(answers)
    time.sleep(0.2)  # let the reader run ahead as far as it may
    assert next(pulled) <= 4 * 8 + 2 * 8 + 1  # the queue, a batch, one in hand


def test_micro_batches_wait_at_most_max_wait():
    predictor = ember.Predictor.__new__(ember.Predictor)
    sizes = []
    predictor.input_shape = None
    predictor._run = lambda batch: sizes.append(len(batch)) or batch

    def slow():
        for index in range(4):
            time.sleep(0.2)  # 20x max_wait: a loaded machine still answers each alone
            yield np.array([index], np.float32)

    assert [float(r[0]) for r in predictor.stream(slow(), batch_size=8, max_wait=0.01)] == [
        0.0,
        1.0,
        2.0,
        3.0,
    ]
    assert sizes == [1, 1, 1, 1]  # no request waited for the next one to fill a batch
    fast = list(predictor.stream(np.zeros((20, 1), np.float32), batch_size=8, max_wait=1.0))
    assert len(fast) == 20 and sizes[4:] == [8, 8, 4]


def test_bad_sources_inputs_and_streams(exported):
    with pytest.raises(ConfigError, match="neither a run folder nor an .onnx"):
        ember.Predictor("missing.onnx")
    predictor = ember.Predictor(exported["onnx"])
    with pytest.raises(ShapeError, match=r"expected inputs of shape \(N, 28, 28, 1\)"):
        predictor.predict(np.zeros((2, 28, 28), np.float32))

    def broken():
        yield np.zeros((28, 28, 1), np.float32)
        raise OSError("camera unplugged")

    with pytest.raises(OSError, match="camera unplugged"):
        list(predictor.stream(broken()))
