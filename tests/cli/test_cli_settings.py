"""A recipe's settings on the command line: shown by --help and `ember list RECIPE`, and checked
(range, choice, epochs) before anything is loaded or written, naming recipe, field and fix."""

from __future__ import annotations

import pytest
import torch

from ember.cli import main


def test_train_recipe_help_lists_each_setting_with_type_default_and_comment(capsys):
    assert main(["train", "fashion-mlp", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ember train") and "--epochs" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert lines["dropout"][:3] == ["dropout", "float", "0.2"]
    assert "fraction of hidden units dropped while training" in out
    assert lines["train_samples"][:5] == ["train_samples", "int", "|", "none", "none"]
    assert lines["epochs"][:3] == ["epochs", "int", "30"]  # the recipe's own default


def test_the_help_shows_a_recipes_own_defaults_and_choices(capsys):
    assert main(["lr-find", "textgen-gru", "-h"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    assert "rnn | lstm | gru | transformer  gru" in lines["model"]
    assert lines["units"].split()[:3] == ["units", "int", "320"]


def test_list_recipe_prints_its_description_and_settings(capsys):
    assert main(["list", "mnist-cnn"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("mnist-cnn: the seed's 3-convolution CNN on MNIST digits")
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.strip()}
    assert lines["filters"][:5] == ["filters", "[int,", "int,", "int]", "32,64,64"]
    assert lines["padding"][:5] == ["padding", "same", "|", "valid", "valid"]
    assert "datasets" not in out  # only the recipe


def test_list_of_an_unknown_recipe_suggests_the_close_ones(capsys):
    assert main(["list", "fashion-mpl"]) == 2
    assert "Did you mean 'fashion-mlp'" in capsys.readouterr().err


def test_list_of_an_image_model_prints_it_and_a_misspelt_one_suggests_models(capsys):
    assert main(["list", "resnet50"]) == 0
    assert "25,557,032 parameters" in capsys.readouterr().out
    assert main(["list", "resnet19"]) == 2
    assert "Did you mean the model 'resnet18'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["fashion-mlp", "--set", "dropout=1.5"],
            "fashion-mlp: expected a rate in [0, 1), received dropout=1.5. Fix: --set dropout=0.2",
        ),
        (
            ["fashion-mlp", "--set", "hidden_units=0"],
            "fashion-mlp: expected a positive integer, received hidden_units=0. "
            "Fix: --set hidden_units=128",
        ),
        (
            ["mnist-mlp", "--epochs", "0"],
            "mnist-mlp: expected a positive integer, received epochs=0. Fix: --set epochs=20",
        ),
        (
            ["fashion-mlp", "--set", "epochs=0"],
            "fashion-mlp: expected a positive integer, received epochs=0. Fix: --set epochs=30",
        ),
        (
            ["fashion-resnet", "--set", "learning_rate=-0.1"],
            "fashion-resnet: expected a positive number, received learning_rate=-0.1. "
            "Fix: --set learning_rate=0.2",
        ),
        (
            ["fashion-cnn", "--set", "padding=full"],
            "--set padding=full: field 'padding' of recipe fashion-cnn expects one of 'same', "
            "'valid', received 'full'. Pass a valid value, e.g. --set padding=same.",
        ),
        (
            ["textgen-lstm", "--set", "model=tcn"],
            "field 'model' of recipe textgen-lstm expects one of 'rnn', 'lstm', 'gru', "
            "'transformer', received 'tcn'",
        ),
    ],
    ids=["dropout", "width", "--epochs 0", "epochs=0", "learning_rate", "choice", "model"],
)
def test_a_bad_setting_names_recipe_field_and_fix_before_anything_is_written(
    args, message, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *args, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and "Traceback" not in error
    assert list(tmp_path.iterdir()) == []  # no run folder, no runs/


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("command", ["train", "lr-find"])
def test_device_cuda_without_cuda_gives_the_command_line_fix(command, tmp_path, capsys):
    assert main([command, "fashion-mlp", "--device", "cuda", "--out", str(tmp_path / "x")]) == 2
    error = capsys.readouterr().err
    assert "CUDA is not available" in error and "Fix: use --device cpu" in error
    assert "device='cpu'" not in error
    assert not (tmp_path / "x").exists()
