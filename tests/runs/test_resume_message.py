"""A verbose resume says, before training continues, which checkpoint it continues from."""

from __future__ import annotations

from typing import Any

from ember import recipes
from ember.runs import load_checkpoint, rundir, training
from ember.train.callback import Callback

FIELDS = {"train_samples": 600, "hidden_units": 8, "epochs": 2, "device": "cpu"}


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.trainer.stop_training = True


def test_resume_names_the_checkpoint_epoch_and_step_before_the_next_epoch(
    tmp_path, monkeypatch, capsys
):
    recipe = recipes.get("fashion-mlp")
    build = training.Recipe.build

    def build_and_stop(self: Any, config: Any) -> Any:
        experiment = build(self, config)
        experiment.callbacks.append(StopAfterFirstEpoch())
        return experiment

    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(training.Recipe, "build", build_and_stop)
        training.train(recipe, recipe.config(**FIELDS), out=run, verbose=0)
    step = load_checkpoint(run).state["global_step"]
    assert step > 0  # one epoch's steps
    capsys.readouterr()

    assert training.resume(run, verbose=1).finished
    lines = capsys.readouterr().out.splitlines()
    expected = f"Resuming {run}/ from checkpoint epoch-0001 (epoch 1 of 2, step {step})"
    assert lines[0] == expected
    assert lines[1] == "Epoch 2/2"  # then training continues where it stopped


def test_resume_of_a_run_without_a_checkpoint_says_it_starts_over(tmp_path, capsys):
    recipe = recipes.get("fashion-mlp")
    config = rundir.resolve_config(recipe.config(**{**FIELDS, "epochs": 1}))
    run = rundir.new_run_dir(recipe.name, tmp_path / "run")  # as a run killed in its first epoch
    rundir.write_config(run, recipe.name, config)

    assert training.resume(run, verbose=1).finished
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"Resuming {run}/: it has no checkpoint yet (it stopped before its first epoch ended), "
        f"so training starts over at epoch 1 of 1."
    )
    assert lines[1] == "Epoch 1/1"


def test_a_quiet_resume_prints_no_such_line(tmp_path, capsys):
    recipe = recipes.get("fashion-mlp")
    config = rundir.resolve_config(recipe.config(**{**FIELDS, "epochs": 1}))
    run = rundir.new_run_dir(recipe.name, tmp_path / "run")
    rundir.write_config(run, recipe.name, config)
    assert training.resume(run, verbose=0).finished
    assert "Resuming" not in capsys.readouterr().out
