"""A search whose worker is killed with SIGKILL mid-trial resumes from its storage: the trial left
running is failed by its heartbeat, run again with the same settings, and the study ends with
exactly the trials asked for, covering the grid once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from ember import recipes
from ember.tune import tune

MLP = recipes.get("fashion-mlp")
FIELDS = {"epochs": 1, "train_samples": 300, "hidden_units": 8, "device": "cpu"}
GRID = [0.0, 0.2, 0.4]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_killed_worker_is_failed_by_heartbeat_and_its_trial_retried(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(f"dropout: {GRID}\n")
    out = tmp_path / "search"
    settings = [f"--set={key}={value}" for key, value in FIELDS.items()] + ["--set=feature_maps="]
    command = [sys.executable, "-m", "ember", "tune", "fashion-mlp", "--space", str(space)]
    command += ["--sampler", "grid", "--pruner", "none", "--heartbeat", "1", "--out", str(out)]
    process = subprocess.Popen(
        [*command, *settings], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # kill the worker as soon as its second trial's run has started
    deadline = time.monotonic() + 240
    while not (out / "trial-0001" / "config.yaml").exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    storage = f"sqlite:///{out / 'study.db'}"
    killed = optuna.load_study(study_name="fashion-mlp", storage=storage).trials
    assert [t.state for t in killed] == [TrialState.COMPLETE, TrialState.RUNNING]

    time.sleep(2.5)  # past the grace period (2 heartbeats) since its last heartbeat
    result = tune(
        MLP,
        space,
        sampler="grid",
        pruner="none",
        heartbeat=1,
        config=MLP.config(**FIELDS, feature_maps=()),
        out=out,
    )
    trials = result.study.trials
    states = [t.state for t in trials]
    assert states == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
    retried = trials[2]
    assert RetryHeartbeatStaleTrialCallback.retried_trial_number(retried) == 1
    assert retried.params == killed[1].params
    finished = [t.params["dropout"] for t in trials if t.state == TrialState.COMPLETE]
    assert sorted(finished) == GRID  # exactly the 3 trials asked for, each grid point once
    assert (out / "trial-0002" / "report.html").is_file()
    assert "4 trials (3 complete, 1 fail)" in result.report.read_text()
