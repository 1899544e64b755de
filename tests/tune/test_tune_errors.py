"""Every bad setting of ember.tune is refused before any trial runs (and, for settings, before the
tune folder is written), with a message that names the value and the fix."""

from __future__ import annotations

import re

import optuna
import pytest

from ember import recipes
from ember.errors import ConfigError, RunError
from ember.tune import tune
from ember.tune.search import TuneSpec

MLP = recipes.get("fashion-mlp")
SPACE = {"dropout": [0.0, 0.2]}


def tiny(**fields):
    return MLP.config(epochs=1, train_samples=300, device="cpu", **fields)


@pytest.mark.parametrize(
    ("arguments", "error", "pattern"),
    [
        ({"sampler": "tpe"}, ConfigError, r"a tpe search needs a number of trials.*--trials 20"),
        ({"sampler": "grid", "trials": 3}, ConfigError, r"--trials 3 is more than the grid's 2"),
        ({"trials": 0}, ConfigError, r"expected a positive integer, received trials=0"),
        ({"trials": 2, "workers": 0}, ConfigError, r"received workers=0. Fix: --workers 2"),
        ({"trials": 2, "sampler": "bayes"}, ConfigError, r"expected sampler in \('tpe', 'random'"),
        ({"trials": 2, "pruner": "asha"}, ConfigError, r"expected pruner in \('median'"),
        ({"trials": 2, "direction": "up"}, ConfigError, r"expected direction in"),
        ({"trials": 2, "heartbeat": 0}, ConfigError, r"received heartbeat=0"),
        ({"trials": 2, "seed": -1}, ConfigError, r"received seed=-1"),
        (
            {"trials": 2, "workers": 2, "sampler": optuna.samplers.RandomSampler()},
            ConfigError,
            r"workers=2 start new processes.*received an object \(RandomSampler\)",
        ),
        (
            {"trials": 2, "config": tiny(dropout=1.5)},
            ConfigError,
            r"fashion-mlp: expected a rate in \[0, 1\), received dropout=1.5",
        ),
        (
            {"trials": 2, "config": tiny(validation_size=0.0)},
            ConfigError,
            r"holds out no validation split.*--set validation_size=0.1",
        ),
    ],
)
def test_a_bad_setting_fails_before_anything_is_written(tmp_path, arguments, error, pattern):
    settings = {"config": tiny(), "out": tmp_path / "search", **arguments}
    with pytest.raises(error, match=pattern):
        tune(MLP, SPACE, **settings)
    assert not (tmp_path / "search").exists()


def test_an_agent_recipe_cannot_be_tuned(tmp_path):
    with pytest.raises(ConfigError, match=r"dqn-cartpole trains an agent in an environment"):
        tune("dqn-cartpole", {"learning_rate": [1e-3, 1e-4]}, trials=2, out=tmp_path / "search")
    assert not (tmp_path / "search").exists()


@pytest.mark.parametrize(
    ("url", "shown", "pattern"),
    [
        ("nonsense", "'nonsense'", r"Could not parse SQLAlchemy URL.*Fix: pass an SQLAlchemy URL"),
        (
            "sqlite:////nonexistent-folder/tune.db",
            "'sqlite:////nonexistent-folder/tune.db'",
            r"unable to open database file. Fix: make sure the file's folder exists",
        ),
        (
            "postgresql+psycopg://tuner:secret@127.0.0.1:1/ember",
            "'postgresql+psycopg://tuner:***@127.0.0.1:1/ember'",
            r"Connection refused.*Fix: check that the server is running",
        ),
        ("mysql://tuner@127.0.0.1/ember", "'mysql://tuner@127.0.0.1/ember'", r"driver is not"),
    ],
)
def test_a_storage_that_cannot_be_opened_names_the_url_and_the_fix(tmp_path, url, shown, pattern):
    opening = re.escape(f"cannot open the study storage {shown}: ")
    with pytest.raises(ConfigError, match=rf"{opening}.*{pattern}"):
        tune(MLP, SPACE, trials=2, storage=url, config=tiny(), out=tmp_path / "search")
    assert not (tmp_path / "search").exists()
    with pytest.raises(ConfigError) as caught:
        tune(MLP, SPACE, trials=2, storage=url, config=tiny(), out=tmp_path / "search")
    assert "secret" not in str(caught.value)


def test_a_folder_that_holds_something_else_is_refused(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("x")
    with pytest.raises(RunError, match=r"is a folder that is not empty and not a tune folder"):
        tune(MLP, SPACE, trials=2, config=tiny(), out=other)
    assert sorted(p.name for p in other.iterdir()) == ["todo.txt"]

    search = tmp_path / "search"
    search.mkdir()
    TuneSpec("fashion-cnn", "cnn", 4, "val_accuracy", "maximize", {}).write(search)
    with pytest.raises(
        ConfigError, match=r"holds a search of recipe fashion-cnn, received fashion"
    ):
        tune(MLP, SPACE, trials=2, config=tiny(), out=search)
    TuneSpec("fashion-mlp", "mlp", 4, "val_accuracy", "maximize", {}).write(search)
    with pytest.raises(ConfigError, match=r"holds a search with --study mlp, received --study x"):
        tune(MLP, SPACE, trials=2, config=tiny(), out=search, study_name="x")
    with pytest.raises(
        ConfigError, match=r"stored in the folder's own study.db, received --storage sqlite:///x.db"
    ):
        tune(MLP, SPACE, trials=2, config=tiny(), out=search, storage="sqlite:///x.db")
