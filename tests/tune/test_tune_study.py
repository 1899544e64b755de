"""ember.tune on tiny fashion-mlp runs: pruning follows Optuna's median rule and stops the run
cleanly, seeded samplers repeat Optuna's own proposals, and a search continues where it
stopped."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from ember import recipes
from ember.errors import ConfigError
from ember.runs import metrics_log
from ember.tune import tune

MLP = recipes.get("fashion-mlp")


def tiny(**fields):
    settings = {"epochs": 1, "train_samples": 300, "hidden_units": 8, "device": "cpu"}
    return MLP.config(**{**settings, "feature_maps": (), **fields})


def test_a_trial_worse_than_the_median_is_pruned_and_its_run_stops_cleanly(tmp_path):
    # Grid seed 1 tries the working learning rate first, then one too small to learn anything.
    result = tune(
        MLP,
        {"learning_rate": [0.02, 1e-6]},
        sampler="grid",
        seed=1,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=1),
        config=tiny(epochs=2),
        out=tmp_path / "search",
    )
    first, second = result.study.trials
    assert first.params == {"learning_rate": 0.02} and first.state == TrialState.COMPLETE
    # Optuna's rule: below the median of earlier trials at the same epoch -> pruned
    assert second.intermediate_values[1] < first.intermediate_values[1]
    assert second.state == TrialState.PRUNED
    assert optuna.pruners.MedianPruner(n_startup_trials=1).prune(result.study, second)
    # the run stopped after that epoch: one logged epoch of two, its checkpoint and a report
    run = result.folder / "trial-0001"
    logged = metrics_log.epochs(run / "metrics.jsonl")
    assert [record["epoch"] for record in logged] == [1]
    assert second.intermediate_values == {1: logged[0]["val_accuracy"]}
    assert (run / "checkpoints").is_dir()
    assert "stopped at epoch 1 of 2" in (run / "report.html").read_text()
    # a complete trial's value is its metric at the last epoch, as the run logged it
    complete = metrics_log.epochs(result.folder / "trial-0000" / "metrics.jsonl")
    assert first.value == complete[-1]["val_accuracy"] == result.best_value
    assert result.best_run == (result.folder / "trial-0000").resolve()
    assert result.counts() == {"COMPLETE": 1, "PRUNED": 1}


def test_a_seeded_sampler_proposes_what_optunas_own_sampler_proposes_and_resumes(tmp_path):
    space = {"learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}, "dropout": [0.0, 0.4]}
    folder = tmp_path / "search"
    first = tune(MLP, space, trials=2, sampler="random", seed=3, config=tiny(), out=folder)
    proposed = [t.params for t in first.study.trials]
    reference = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    distributions = first.study.trials[0].distributions
    assert proposed == [reference.ask(distributions).params for _ in range(2)]

    # Again on the same folder: the search continues to 3 trials, with a fresh proposal
    more = tune(MLP, space, trials=3, sampler="random", seed=3, config=tiny(), out=folder)
    params = [t.params for t in more.study.trials]
    assert len(params) == 3 and params[:2] == proposed and params[2] not in proposed
    again = tune(MLP, space, trials=3, sampler="random", seed=3, config=tiny(), out=folder)
    assert len(again.study.trials) == 3  # nothing left to run

    # ... but not with another question
    with pytest.raises(ConfigError, match=r"was made with other settings \(space: .*dropout"):
        tune(MLP, {**space, "dropout": [0.1]}, trials=3, config=tiny(), out=folder)
    with pytest.raises(ConfigError, match=r"config: hidden_units '8' then, '16' now"):
        tune(MLP, space, trials=3, config=tiny(hidden_units=16), out=folder)


def test_a_metric_the_recipe_does_not_log_fails_its_first_trial(tmp_path):
    with pytest.raises(ConfigError, match=r"'val_f1' is not among .*: accuracy, loss"):
        tune(MLP, {"dropout": [0.0]}, sampler="grid", metric="val_f1", config=tiny(),
             out=tmp_path / "search")  # fmt: skip
    study = optuna.load_study(
        study_name="fashion-mlp", storage=f"sqlite:///{tmp_path / 'search' / 'study.db'}"
    )
    assert [t.state for t in study.trials] == [TrialState.FAIL]
