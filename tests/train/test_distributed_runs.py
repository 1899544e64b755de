"""A run on two processes: the main one alone writes the run folder, and a stopped run resumed
on two processes ends bit for bit where the uninterrupted one did."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from spawned_processes import act_as_torchrun_process

from ember import recipes
from ember.recipes import Recipe
from ember.runs import load_checkpoint, metrics_log, training
from ember.seeding import set_seed
from ember.train.callback import Callback

WORLD_SIZE = 2
# Dropout stays on: every process restores the checkpoint's random state, as one process does.
FIELDS = {"train_samples": 300, "hidden_units": 8, "epochs": 2, "device": "cpu", "feature_maps": ()}


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.trainer.stop_training = True


def _worker(rank: int, port: int, out: str) -> None:
    act_as_torchrun_process(rank, WORLD_SIZE, port)
    recipe = recipes.get("fashion-mlp")
    config = recipe.config(**FIELDS)
    # The uninterrupted reference: what a run does, without its folder (seed, build, fit).
    set_seed(config.seed)
    experiment = recipe.build(config)
    trainer = experiment.trainer
    batches = experiment.batches("train", shuffle=True), experiment.batches("val")
    trainer.fit(*batches, epochs=config.epochs, verbose=0)
    torch.save(experiment.network.state_dict(), Path(out) / f"uninterrupted{rank}.pt")
    build = Recipe.build

    def build_and_stop(self, config):
        experiment = build(self, config)
        experiment.callbacks.append(StopAfterFirstEpoch())
        return experiment

    Recipe.build = build_and_stop
    stopped = training.train(recipe, config, out=Path(out) / "stopped", verbose=0)
    Recipe.build = build
    resumed = training.resume(Path(out) / "stopped", verbose=0)
    finished = [stopped.finished, resumed.finished]
    (Path(out) / f"rank{rank}.json").write_text(json.dumps(finished))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mp.spawn(_worker, args=(port, str(out)), nprocs=WORLD_SIZE)
    return out


def test_every_process_sees_the_same_run_end(runs):
    for rank in range(WORLD_SIZE):
        assert json.loads((runs / f"rank{rank}.json").read_text()) == [False, True]


def test_a_stopped_run_resumed_on_two_processes_matches_the_uninterrupted_one(runs):
    resumed = load_checkpoint(runs / "stopped")
    assert resumed.epoch == 2
    for rank in range(WORLD_SIZE):
        uninterrupted = torch.load(runs / f"uninterrupted{rank}.pt")
        assert uninterrupted.keys() == resumed.weights.keys()
        for name, tensor in uninterrupted.items():
            assert torch.equal(tensor, resumed.weights[name]), name


def test_only_the_main_process_writes_the_run_folder(runs):
    records = metrics_log.read(runs / "stopped" / "metrics.jsonl")
    # One line per epoch and one test evaluation: a second writer would have doubled them.
    assert [(r["kind"], r.get("epoch")) for r in records] == [
        ("epoch", 1),
        ("epoch", 2),
        ("evaluation", 2),
    ]
    assert (runs / "stopped" / "report.html").is_file()
    assert [p.name for p in runs.iterdir() if p.is_dir()] == ["stopped"]
