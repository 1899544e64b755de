"""``ember train RECIPE --devices N``: the same run in N processes through torchrun, and every
mistake caught before a process starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch

from ember import recipes
from ember.cli import main
from ember.cli.launch import torchrun_command
from ember.runs import load_checkpoint, metrics_log
from ember.seeding import set_seed

# Without dropout, two processes train exactly what one does (a global batch of 32 either way).
FIELDS = {"train_samples": 300, "hidden_units": 8, "dropout": 0.0, "epochs": 1, "device": "cpu"}
TINY = [f"--set={key}={value}" for key, value in FIELDS.items()] + [
    "--set=feature_maps=",
    "--quiet",
]


def fails(args, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.err.startswith("error: ")
    return captured.err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The tiny run on two processes (the command, in the background), and what one process
    trains with the same settings (seed, build, fit: a run without its folder), meanwhile."""
    out = tmp_path_factory.mktemp("devices")
    command = ["train", "fashion-mlp", *TINY, "--devices", "2", "--out", str(out / "two")]
    two = subprocess.Popen([sys.executable, "-m", "ember", *command], stderr=subprocess.PIPE)
    recipe = recipes.get("fashion-mlp")
    config = recipe.config(**FIELDS)
    set_seed(config.seed)
    experiment = recipe.build(config)
    batches = experiment.batches("train", shuffle=True), experiment.batches("val")
    history = experiment.trainer.fit(*batches, epochs=config.epochs, verbose=0).history
    _, errors = two.communicate(timeout=300)
    assert two.returncode == 0, errors.decode()[-2000:]
    return out, experiment.network.state_dict(), history


def test_two_processes_train_the_run_one_process_trains(runs):
    out, weights, history = runs
    two = load_checkpoint(out / "two")
    for name, tensor in weights.items():
        torch.testing.assert_close(two.weights[name], tensor, rtol=0, atol=1e-5)
    logged = metrics_log.read(out / "two" / "metrics.jsonl")
    assert [r["kind"] for r in logged] == ["epoch", "evaluation"]  # written once, by rank 0
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert logged[0][name] == pytest.approx(history[name][0], abs=1e-6), name
    assert (out / "two" / "report.html").is_file()


def listening_port() -> socket.socket:
    server = socket.socket()
    server.bind(("", 0))
    server.listen()
    return server


def test_a_port_in_use_is_named_with_a_free_one_to_use_instead(capsys):
    with listening_port() as server:
        port = server.getsockname()[1]
        error = fails(
            ["train", "fashion-mlp", "--devices", "2", "--master-port", str(port)], capsys
        )
    assert f"--master-port {port} cannot be used" in error
    suggested = int(error.split("e.g. --master-port ")[1].split(" ")[0])
    assert suggested != port and suggested > 0


def test_resume_checks_before_it_starts_processes_too(runs, capsys):
    with listening_port() as server:
        port = str(server.getsockname()[1])
        error = fails(
            ["resume", str(runs[0] / "two"), "--devices", "2", "--master-port", port], capsys
        )
    assert f"--master-port {port} cannot be used" in error


def test_a_batch_size_that_does_not_divide_names_both_numbers(capsys):
    error = fails(["train", "fashion-mlp", "--set", "batch_size=33", "--devices", "2"], capsys)
    assert "batch_size=33 is the global batch, split evenly over 2 processes" in error
    assert "batch_size=32 or 34" in error


def test_more_gpus_than_there_are_names_how_many(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    error = fails(["train", "fashion-mlp", "--device", "cuda", "--devices", "2"], capsys)
    assert "devices=2 asks for one GPU per process, but this machine has 1 CUDA GPU(s)" in error


def test_more_cpu_processes_than_cores_warns_before_launching(monkeypatch, capsys):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with listening_port() as server, pytest.warns(UserWarning, match="machine with 1 cores"):
        port = str(server.getsockname()[1])
        fails(["train", "fashion-mlp", "--devices", "2", "--master-port", port], capsys)


def test_zero_devices_and_a_used_out_folder_fail_before_launching(tmp_path, capsys):
    assert "received --devices=0" in fails(["train", "fashion-mlp", "--devices", "0"], capsys)
    (tmp_path / "notes.txt").write_text("mine")
    error = fails(["train", "fashion-mlp", "--devices", "2", "--out", str(tmp_path)], capsys)
    assert "is a folder that is not empty" in error


def test_a_given_master_port_replaces_the_standalone_rendezvous():
    command = torchrun_command(["train", "fashion-mlp", "--devices", "2"], 2, 29517)
    assert "--standalone" not in command
    assert command[command.index("--master-port") + 1] == "29517"
    assert command[command.index("--nproc-per-node") + 1] == "2"
    assert command[-6:] == ["-m", "ember", "train", "fashion-mlp", "--devices", "2"]
