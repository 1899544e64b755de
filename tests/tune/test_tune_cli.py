"""``ember tune``: a search from the command line, its summary table, and its usage errors."""

from __future__ import annotations

import optuna
import pytest

from ember.cli import main
from ember.tune.search import TuneSpec

SETTINGS = ["--set", "epochs=1", "--set", "train_samples=300", "--set", "hidden_units=8"]
SETTINGS += ["--set", "device=cpu", "--set", "feature_maps="]


def test_a_grid_search_from_the_command_line(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("dropout: [0.0, 0.3]\n")
    out = tmp_path / "search"
    command = ["tune", "fashion-mlp", "--space", str(space), "--sampler", "grid"]
    code = main([*command, "--pruner", "none", "--study", "grid", "--out", str(out), *SETTINGS])
    printed = capsys.readouterr().out
    assert code == 0, printed
    study = optuna.load_study(study_name="grid", storage=f"sqlite:///{out / 'study.db'}")
    best = study.best_trial
    assert f"{out} · 2 complete" in printed
    assert f"val_accuracy (trial {best.number})" in printed and f"{best.value:.4f}" in printed
    assert f"report: {out / 'report.html'}" in printed
    spec = TuneSpec.read(out)
    assert (spec.sampler, spec.pruner, spec.trials, spec.study) == ("grid", "none", 2, "grid")
    # the base config holds the --set values; every trial's run config is it plus its setting
    assert "hidden_units: 8" in (out / "base-config.yaml").read_text()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--storage", "sqlite:////nonexistent-folder/t.db", "--trials", "2"], "cannot open"),
        (["--trials", "2", "--set", "dropout=2"], "expected a rate in [0, 1)"),
        (["--sampler", "random"], "a random search needs a number of trials"),
        (["--trials", "2", "--workers", "0"], "received workers=0"),
    ],
)
def test_a_usage_error_exits_2_with_one_message(tmp_path, capsys, arguments, message):
    space = tmp_path / "space.yaml"
    space.write_text("dropout: [0.0, 0.3]\n")
    command = ["tune", "fashion-mlp", "--space", str(space), "--out", str(tmp_path / "s")]
    assert main([*command, *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not (tmp_path / "s").exists()


def test_an_unknown_space_key_and_a_missing_space_are_usage_errors(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("hiden_units: [8, 16]\n")
    assert main(["tune", "fashion-mlp", "--space", str(space), "--trials", "2"]) == 2
    assert "Did you mean 'hidden_units'?" in capsys.readouterr().err
    assert main(["tune", "fashion-mlp", "--trials", "2"]) == 2
    assert "ember tune needs a search space, received none" in capsys.readouterr().err
    assert main(["tune", "fashion-mlp", "--help"]) == 0  # the help, then the recipe's settings
    assert "hidden_units" in capsys.readouterr().out
