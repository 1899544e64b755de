"""The ``ember`` command end to end on real Fashion-MNIST (a small slice, a tiny network)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ember import datasets, recipes
from ember.cli import main
from ember.runs import load_checkpoint, metrics_log
from ember.runs import training as run_training
from ember.train.callback import Callback

TINY = ["--set", "train_samples=600", "--set", "hidden_units=8", "--epochs", "2"]


def run_tree(run):
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if not p.is_dir())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One finished tiny run shared by the read-only tests."""
    path = tmp_path_factory.mktemp("runs") / "tiny"
    assert main(["train", "fashion-mlp", *TINY, "--out", str(path), "--quiet"]) == 0
    return path


def weights(run, which="last"):
    return load_checkpoint(run, which).weights


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_train_writes_a_complete_run_folder(run, capsys):
    files = run_tree(run)
    for expected in ("config.yaml", "metrics.jsonl", "report.html", "evaluation/test.safetensors"):
        assert expected in files
    assert any(f.startswith("tensorboard/") and "tfevents" in f for f in files)
    assert any(f.startswith("plots/") and f.endswith(".png") for f in files)
    assert os.readlink(run / "checkpoints" / "last") == "epoch-0002"
    config = (run / "config.yaml").read_text()
    assert "recipe: fashion-mlp" in config and "device: cpu" in config and "seed: 0" in config
    assert f"torch: {torch.__version__}" in config
    records = metrics_log.read(run / "metrics.jsonl")
    assert [r["kind"] for r in records] == ["epoch", "epoch", "evaluation"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "time"} <= set(
        records[0]
    )


def test_the_report_maps_the_test_features_by_class(run):
    """PCA of the penultimate features (Dense 8) of the test images, shown in the report."""
    path = run / "evaluation" / "test" / "feature-map-pca.png"
    image = Image.open(path)
    assert image.format == "PNG" and min(image.size) > 200
    assert 'alt="feature-map-pca"' in (run / "report.html").read_text()
    assert not (run / "evaluation" / "test" / "feature-map-tsne.png").exists()  # opt-in: slower
    assert "feature_maps:" in (run / "config.yaml").read_text()


def test_the_summary_table_and_report_path_are_printed(tmp_path, capsys):
    assert main(["train", "fashion-mlp", *TINY, "--out", str(tmp_path / "r"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "finished 2 epochs" in out and "accuracy" in out and "report: " in out


def test_the_resolved_config_reproduces_the_run(run, tmp_path):
    again = tmp_path / "again"
    assert main(["train", str(run / "config.yaml"), "--out", str(again), "--quiet"]) == 0
    assert_same_weights(weights(run), weights(again))
    first, second = (
        metrics_log.read(run / "metrics.jsonl"),
        metrics_log.read(again / "metrics.jsonl"),
    )
    assert [r["loss"] for r in first if r["kind"] == "epoch"] == [
        r["loss"] for r in second if r["kind"] == "epoch"
    ]


def test_ctrl_c_stops_after_the_epoch_and_resume_finishes_exactly(
    run, tmp_path, monkeypatch, capsys
):
    class PressCtrlC(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 3 and self.trainer.global_step < 10:
                os.kill(os.getpid(), signal.SIGINT)

    build = run_training.Recipe.build

    def build_with_ctrl_c(self, config):
        experiment = build(self, config)
        experiment.callbacks.append(PressCtrlC())
        return experiment

    monkeypatch.setattr(run_training.Recipe, "build", build_with_ctrl_c)
    stopped = tmp_path / "stopped"
    assert main(["train", "fashion-mlp", *TINY, "--out", str(stopped), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "stopped after epoch 1 of 2" in out and f"ember resume {stopped}" in out
    assert (stopped / "report.html").is_file() and load_checkpoint(stopped).epoch == 1
    monkeypatch.undo()
    assert main(["resume", str(stopped), "--quiet"]) == 0
    assert_same_weights(weights(run), weights(stopped))
    assert [r["epoch"] for r in metrics_log.epochs(stopped / "metrics.jsonl")] == [1, 2]


def test_evaluate_prints_and_logs_metrics(run, capsys):
    assert main(["evaluate", str(run), "--split", "val"]) == 0
    out = capsys.readouterr().out
    record = metrics_log.read(run / "metrics.jsonl")[-1]
    assert record["kind"] == "evaluation" and record["split"] == "val"
    assert f"{record['accuracy']:.4f}" in out


def test_predict_prints_top_k_classes_for_images_and_arrays(run, tmp_path, capsys):
    _, (x_test, _) = datasets.fashion_mnist.load_data()
    Image.fromarray(x_test[0]).save(tmp_path / "first.png")
    np.save(tmp_path / "two.npy", x_test[:2])
    assert main(["predict", str(run), str(tmp_path / "first.png"), str(tmp_path / "two.npy")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["first.png", "two.npy[0]", "two.npy[1]"]
    assert lines[0].split(": ")[1] == lines[1].split(": ")[1]  # same image, same answer
    assert lines[0].count("%") == 3
    # the probabilities are the network's
    experiment, _ = run_training.load_experiment(run)
    expected = experiment.probabilities(torch.from_numpy(x_test[:1] / 255.0).float()[..., None])
    top = expected[0].argmax().item()
    assert lines[0].split(": ")[1].startswith(f"{datasets.fashion_mnist.class_names[top]} ")


def test_predict_rejects_a_wrong_image_size_unless_resize(run, tmp_path, capsys):
    Image.new("RGB", (32, 40), "white").save(tmp_path / "photo.jpg")
    assert main(["predict", str(run), str(tmp_path / "photo.jpg")]) == 2
    error = capsys.readouterr().err
    assert "32x40 with 3 channel(s)" in error and "expects 28x28 images with 1 channel(s)" in error
    assert "--resize" in error and "Traceback" not in error
    assert main(["predict", str(run), str(tmp_path / "photo.jpg"), "--resize"]) == 0
    assert capsys.readouterr().out.startswith("photo.jpg: ")


def test_report_renders_again(run, capsys):
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file() and "report: " in capsys.readouterr().out


def test_compare_prints_a_table_and_writes_one_plot(run, tmp_path, capsys):
    other = tmp_path / "other"
    assert (
        main(
            ["train", "fashion-mlp", *TINY, "--set", "dropout=0.5", "--out", str(other), "--quiet"]
        )
        == 0
    )
    capsys.readouterr()
    plot = tmp_path / "compare.png"
    assert main(["compare", str(run), str(other), "--out", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "other" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_names_runs_shortly_shows_differing_settings_first_and_plots_beside_them(
    run, tmp_path, monkeypatch, capsys
):
    runs = tmp_path / "runs"
    first, second = runs / "fashion-mlp-20250101-120000", runs / "fashion-mlp-20250101-120500"
    for copy, dropout in ((first, "0.2"), (second, "0.5")):
        copy.mkdir(parents=True)
        (copy / "metrics.jsonl").write_text((run / "metrics.jsonl").read_text())
        config = (run / "config.yaml").read_text()
        (copy / "config.yaml").write_text(config.replace("dropout: 0.2", f"dropout: {dropout}"))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["compare", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(line for line in lines if "120000" in line)
    assert header.split() == ["120000", "120500"]
    labels = [line.split()[0] for line in lines if line.strip() and line.startswith("  ")]
    assert labels.index("dropout") < labels.index("test")  # the settings first, then scores
    assert "hidden_units" not in out  # the same in both
    table = [line for line in lines if str(tmp_path) not in line]  # not the paths under it
    assert max(len(line.rstrip()) for line in table) <= 100
    (plot,) = runs.glob("compare-*/compare.png")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {plot}" in out and f"120000: {first}" in out
    assert list(here.iterdir()) == []  # nothing in the current folder


def test_lr_find_writes_into_a_new_folder_under_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["lr-find", "fashion-mlp", "--set", "train_samples=600", "--steps", "15"]
    assert main(args) == 0
    out = capsys.readouterr().out
    (folder,) = (tmp_path / "runs").glob("lr-find-fashion-mlp-*")
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "lr_find.png"]
    assert f"plot: {Path('runs') / folder.name / 'lr_find.png'}" in out
    assert f"ember train {Path('runs') / folder.name / 'config.yaml'} --set learning_rate=" in out
    assert "train_samples: 600" in (folder / "config.yaml").read_text()


def test_lr_find_saves_a_plot_and_suggests_a_rate(tmp_path, capsys):
    plot = tmp_path / "lr.png"
    args = [
        "lr-find",
        "fashion-mlp",
        "--set",
        "train_samples=600",
        "--steps",
        "15",
        "--out",
        str(plot),
    ]
    assert main(args) == 0
    assert "suggested learning rate: " in capsys.readouterr().out
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_datasets_info_says_where_the_files_are(capsys):
    assert main(["datasets", "info", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert "train_images: /" in out and "T-shirt/top" in out


def test_list_names_every_recipe_dataset_and_model(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "fashion-mlp",
        "fashion-cnn",
        "mnist-mlp",
        "mnist-cnn",
        "fashion_mnist",
        "Sequential",
    ):
        assert name in out
    for recipe in recipes.RECIPES:
        assert recipe in out
    for corpus in ("moby_dick()", "jane_austen()", "rotten_tomatoes()", "sunspots()"):
        assert corpus in out


@pytest.mark.parametrize(
    "command",
    ["list", "train", "resume", "evaluate", "predict", "report", "compare", "lr-find", "datasets"],
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit:
        main([command, "--help"])
    assert exit.value.code == 0 and "usage: ember" in capsys.readouterr().out


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(
    tmp_path, monkeypatch, capsys
):
    import errno

    from ember.runs import checkpoint

    real = checkpoint.save_file
    calls = []

    def fill_up(tensors, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 2:  # epoch 1 (weights + state) succeeds, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(tensors, path, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "save_file", fill_up)
    out = tmp_path / "full"
    assert main(["train", "fashion-mlp", *TINY, "--out", str(out), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "disk is full" in error and "epoch-0001" in error and "Traceback" not in error
    assert load_checkpoint(out).epoch == 1
    monkeypatch.undo()
    assert main(["resume", str(out), "--quiet"]) == 0
    assert load_checkpoint(out).epoch == 2


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="unknown recipe"):
        main(["--debug", "train", "no-such-recipe"])


def test_metrics_log_is_json_lines(run):
    for line in (run / "metrics.jsonl").read_text().splitlines():
        assert isinstance(json.loads(line), dict)


def test_datasets_download_finds_installed_files_without_the_network(capsys):
    assert main(["datasets", "download", "mnist"]) == 0
    out = capsys.readouterr().out
    found = [line for line in out.splitlines() if line.startswith("  ") and ": /" in line]
    assert len(found) == 4 and "missing" not in out
