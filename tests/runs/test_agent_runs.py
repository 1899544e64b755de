"""Runs of agents: the run folder, report, `ember play`, and kill -9 then resume, exactly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from ember import recipes
from ember.callbacks import LambdaCallback
from ember.cli import main
from ember.errors import RunError
from ember.runs import load_checkpoint, metrics_log, training
from ember.runs.agent_training import load_agent

# Short epochs with many updates, so that a run lasts a few seconds and a kill lands mid-run.
FIELDS = {
    "epochs": 4,
    "steps_per_epoch": 400,
    "learning_starts": 100,
    "train_frequency": 10,
    "gradient_steps": 4,
    "hidden": "32",
    "eval_episodes": 3,
    "test_episodes": 5,
}


def config(**changes):
    recipe = recipes.get("dqn-cartpole")
    fields = {**FIELDS, "hidden": (32,), **changes}
    return recipe, recipe.config(**fields)


def test_a_dqn_run_has_checkpoints_test_returns_and_a_report_with_its_film(tmp_path, capsys):
    recipe, settings = config(epochs=2)
    result = training.train(recipe, settings, out=tmp_path / "run", verbose=0)
    assert result.finished and result.test["mean_return"] > 0
    assert load_checkpoint(tmp_path / "run", "best") is not None
    figures = tmp_path / "run" / "evaluation" / "test"
    assert (figures / "training.png").stat().st_size > 0
    assert (figures / "episode.gif").stat().st_size > 0
    report = (tmp_path / "run" / "report.html").read_text()
    assert "data:image/gif;base64," in report and "mean_return" in report

    assert main(["play", str(tmp_path / "run"), "--episodes", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    returns = [float(line.split("return ")[1]) for line in lines[:3]]
    assert lines[3].startswith(f"mean return {sum(returns) / 3:.2f}")
    agent, _ = load_agent(tmp_path / "run", "best")
    assert agent.play(3, seed=30_000) == returns  # the same starting states, the same returns
    assert main(["play", str(tmp_path / "run"), "--episodes", "0"]) == 2
    assert "expected a positive integer, received --episodes=0" in capsys.readouterr().err


def test_play_and_evaluate_refuse_the_other_kind_of_run(tmp_path):
    recipe, settings = config(epochs=1)
    training.train(recipe, settings, out=tmp_path / "agent", verbose=0)
    with pytest.raises(RunError, match="ember play"):
        training.evaluate(tmp_path / "agent")
    mlp = recipes.get("fashion-mlp")
    mlp_config = mlp.config(epochs=1, train_samples=600, hidden_units=4, device="cpu")
    training.train(mlp, mlp_config, out=tmp_path / "mlp", verbose=0)
    with pytest.raises(RunError, match="not an agent"):
        load_agent(tmp_path / "mlp")


def test_q_learning_run_draws_its_table_and_calls_the_callers_callbacks(tmp_path):
    recipe = recipes.get("q-learning-frozenlake")
    settings = recipe.config(epochs=2, episodes_per_epoch=300, eval_episodes=50, test_episodes=50)
    epochs_seen = []
    counter = LambdaCallback(on_epoch_end=lambda epoch, logs=None: epochs_seen.append(epoch))
    result = training.train(recipe, settings, out=tmp_path / "lake", verbose=0, callbacks=[counter])
    assert epochs_seen == [0, 1]  # training.train(callbacks=...) reaches an agent's run too
    assert result.finished and 0 <= result.test["success_rate"] <= 1
    assert (tmp_path / "lake" / "evaluation" / "test" / "q_table.png").stat().st_size > 0


def test_a_dqn_run_killed_with_sigkill_resumes_to_the_same_return_curve(tmp_path):
    recipe, settings = config()
    reference = training.train(recipe, settings, out=tmp_path / "reference", verbose=0)
    run = tmp_path / "killed"
    sets = [f"--set={key}={value}" for key, value in FIELDS.items()]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ember",
            "train",
            "dqn-cartpole",
            *sets,
            "--out",
            str(run),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while load_checkpoint(run) is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)  # mid-epoch: replay, environments, epsilon in flight
    process.wait()
    killed_at = load_checkpoint(run).epoch
    assert killed_at < FIELDS["epochs"], "the run ended before the kill; make its epochs longer"
    assert training.resume(run, verbose=0).finished

    def curve(folder):
        epochs = metrics_log.epochs(folder / "metrics.jsonl")
        keys = ("env_steps", "episode_return", "loss", "q_value", "eval_return", "epsilon")
        return [[record.get(key) for key in keys] for record in epochs]

    assert curve(run) == curve(reference.run_dir)
    for key, value in load_checkpoint(reference.run_dir).weights.items():
        assert load_checkpoint(run).weights[key].equal(value), key
