"""Bad input to the ``ember`` command: one paragraph, exit code 2 (or 1), no traceback, nothing lost."""

from __future__ import annotations

import pytest

from ember.cli import main

TINY = ["--set", "train_samples=600", "--set", "hidden_units=8", "--epochs", "1", "--quiet"]


def fails(args, capsys, code=2):
    assert main(args) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.err.startswith("error: ")
    return captured.err


def test_unknown_recipe_suggests_close_names(capsys):
    error = fails(["train", "fashion-mpl"], capsys)
    assert "unknown recipe 'fashion-mpl'" in error and "Did you mean 'fashion-mlp'" in error


def test_unknown_set_key_lists_valid_keys_and_the_closest(capsys):
    error = fails(["train", "fashion-mlp", "--set", "hiden_units=3"], capsys)
    assert "Did you mean 'hidden_units'" in error and "Valid keys: batch_size" in error


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("dropout=abc", "field 'dropout' of recipe fashion-mlp expects a float, received 'abc'"),
        ("epochs=2.5", "field 'epochs'"),
        ("hidden_units", "expects key=value"),
    ],
)
def test_mistyped_set_values_name_the_field_and_the_type(pair, message, capsys):
    assert message in fails(["train", "fashion-mlp", "--set", pair], capsys)


def test_missing_or_unreadable_config_file(tmp_path, capsys):
    assert str(tmp_path / "nope.yaml") in fails(["train", str(tmp_path / "nope.yaml")], capsys)
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipe: [unclosed\n")
    assert "bad.yaml" in fails(["train", str(bad)], capsys)
    norecipe = tmp_path / "norecipe.yaml"
    norecipe.write_text("epochs: 2\n")
    assert "recipe: fashion-mlp" in fails(["train", str(norecipe)], capsys)


def test_a_yaml_config_with_a_bad_field_names_file_and_field(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("recipe: fashion-mlp\nhidden_units: many\n")
    error = fails(["train", str(path)], capsys)
    assert "c.yaml" in error and "hidden_units" in error


def test_out_folder_that_is_not_a_run_is_left_alone(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    error = fails(["train", "fashion-mlp", *TINY, "--out", str(folder)], capsys)
    assert "not empty" in error and "not an ember run" in error
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "precious"


def test_an_unknown_feature_map_method_fails_before_anything_is_written(tmp_path, capsys):
    error = fails(
        [
            "train",
            "fashion-mlp",
            *TINY,
            "--set",
            "feature_maps=pca,umap",
            "--out",
            str(tmp_path / "run"),
        ],
        capsys,
    )
    assert "feature_maps" in error and "'umap'" in error and "pca,tsne" in error
    assert not (tmp_path / "run").exists()


def test_resume_something_that_is_not_a_run(tmp_path, capsys):
    assert "is not an ember run" in fails(["resume", str(tmp_path)], capsys)
    assert "does not exist" in fails(["resume", str(tmp_path / "missing")], capsys)
    assert "is not an ember run" in fails(["evaluate", str(tmp_path)], capsys)


def test_resume_a_finished_run_and_one_from_another_architecture(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "fashion-mlp", *TINY, "--out", str(run)]) == 0
    capsys.readouterr()
    assert "nothing to resume" in fails(["resume", str(run)], capsys)
    # killed after the test evaluation but before the report: resume writes the report only
    (run / "report.html").unlink()
    log = (run / "metrics.jsonl").read_text()
    assert main(["resume", str(run)]) == 0
    assert (run / "report.html").is_file()
    assert (run / "metrics.jsonl").read_text() == log
    capsys.readouterr()
    assert "nothing to resume" in fails(["resume", str(run)], capsys)
    # `--out` onto an existing run points to resume instead of overwriting it
    assert "ember resume" in fails(["train", "fashion-mlp", "--out", str(run)], capsys)
    # someone edits the architecture of a stopped run: resume names the mismatched weights
    config = run / "config.yaml"
    config.write_text(
        config.read_text()
        .replace("hidden_units: 8", "hidden_units: 9")
        .replace("epochs: 1", "epochs: 2")
    )
    error = fails(["resume", str(run)], capsys)
    assert "do not fit this model" in error and "model (9, 784) vs file (8, 784)" in error


def test_unknown_dataset(capsys):
    assert "unknown dataset 'imagenet'" in fails(["datasets", "info", "imagenet"], capsys)


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train"])
    assert exit.value.code == 2
