"""Two worker processes share one study: a grid is covered exactly once, and they stop together
at the number of trials asked for."""

from __future__ import annotations

import itertools

from optuna.trial import TrialState

import ember
from ember import recipes

MLP = recipes.get("fashion-mlp")


def tiny(**fields):
    settings = {"epochs": 1, "train_samples": 300, "hidden_units": 8, "device": "cpu"}
    return MLP.config(**{**settings, "feature_maps": (), **fields})


def test_two_workers_cover_the_grid_exactly_once(tmp_path):
    grid = {"dropout": [0.0, 0.3], "hidden_units": [8, 16]}
    result = ember.tune(
        "fashion-mlp", grid, sampler="grid", pruner="none", workers=2, seed=0,
        config=tiny(), out=tmp_path / "grid",
    )  # fmt: skip
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4
    tried = sorted((t.params["dropout"], t.params["hidden_units"]) for t in trials)
    assert tried == sorted(itertools.product(grid["dropout"], grid["hidden_units"]))
    log = (result.folder / "workers" / "worker-1.log").read_text()
    assert "Using an existing study with `study_name='fashion-mlp'`" in log  # the shared one
    assert len(list(result.folder.glob("trial-*/report.html"))) == 4
