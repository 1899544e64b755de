"""A run killed with SIGKILL at random moments and resumed ends bit for bit like an uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import torch

from ember import recipes
from ember.runs import load_checkpoint, metrics_log, training

# Many short epochs, so that random kills land in every phase: start-up, training, validation,
# checkpoint writes, the test evaluation and the report.
FIELDS = {"train_samples": 1200, "hidden_units": 8, "epochs": 8, "device": "cpu"}


def ember(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ember", *args, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_and_resumed_run_matches_the_uninterrupted_run(tmp_path):
    recipe = recipes.get("fashion-mlp")
    started = time.perf_counter()
    reference = training.train(
        recipe, recipe.config(**FIELDS), out=tmp_path / "reference", verbose=0
    )
    assert reference.finished
    # kills land within the run's own length (after ~1 s of start-up), whatever the machine's speed
    seconds = time.perf_counter() - started

    run = tmp_path / "killed"
    settings = [f"--set={key}={value}" for key, value in FIELDS.items()]
    rng = random.Random(0)
    process = ember("train", "fashion-mlp", *settings, "--out", str(run))
    kills = 0
    while True:
        try:
            process.wait(timeout=rng.uniform(1.0, 1.0 + 0.8 * seconds) if kills < 4 else 120)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            # a kill before the folder exists means the run never started: start it again
            process = (
                ember("resume", str(run))
                if (run / "config.yaml").exists()
                else ember("train", "fashion-mlp", *settings, "--out", str(run))
            )
            continue
        errors = process.stderr.read()
        # a kill that lands after the report is written (during exit) leaves a finished run
        if process.returncode == 2 and "nothing to resume" in errors:
            break
        assert process.returncode == 0, errors
        break
    assert kills >= 1

    # `last` always loads, the weights are bitwise identical, and the log has each epoch once
    expected, resumed = load_checkpoint(reference.run_dir), load_checkpoint(run)
    assert resumed.epoch == expected.epoch == 8
    for key, value in expected.weights.items():
        assert torch.equal(resumed.weights[key], value), key
    reference_log = metrics_log.epochs(reference.run_dir / "metrics.jsonl")
    resumed_log = metrics_log.epochs(run / "metrics.jsonl")
    assert [r["epoch"] for r in resumed_log] == list(range(1, 9))
    assert [r["loss"] for r in resumed_log] == [r["loss"] for r in reference_log]
    assert [r["val_accuracy"] for r in resumed_log] == [r["val_accuracy"] for r in reference_log]
    evaluations = [r for r in metrics_log.read(run / "metrics.jsonl") if r["kind"] == "evaluation"]
    assert len(evaluations) == 1


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path):
    recipe = recipes.get("fashion-mlp")
    fields = {**FIELDS, "epochs": 2}
    reference = training.train(
        recipe, recipe.config(**fields), out=tmp_path / "reference", verbose=0
    )
    run = tmp_path / "early"
    process = ember(
        "train", "fashion-mlp", *[f"--set={k}={v}" for k, v in fields.items()], "--out", str(run)
    )
    deadline = time.monotonic() + 60
    while not (run / "config.yaml").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert load_checkpoint(run) is None or load_checkpoint(run).epoch <= 2
    assert training.resume(run, verbose=0).finished
    for key, value in load_checkpoint(reference.run_dir).weights.items():
        assert torch.equal(load_checkpoint(run).weights[key], value)
