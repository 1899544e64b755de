"""Checkpoints: exact state round trips, atomic swaps, and failures that keep the last good one."""

from __future__ import annotations

import errno
import os
import random

import numpy as np
import pytest
import torch

from ember.errors import CheckpointError
from ember.runs import checkpoint as checkpoints
from ember.runs.checkpoint import decode_state, encode_state, load_checkpoint, save_checkpoint


def trained_adam() -> tuple[torch.nn.Module, torch.optim.Optimizer, object]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, fused=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=20)
    for _ in range(3):
        optimizer.zero_grad()
        net(torch.randn(16, 4)).square().mean().backward()
        optimizer.step()
        scheduler.step()
    return net, optimizer, scheduler


def test_training_state_round_trips_exactly(tmp_path):
    net, optimizer, scheduler = trained_adam()
    state = {
        "epoch": 3,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "python": random.getstate(),
        "numpy": np.random.get_state()[2:],
        "torch": torch.get_rng_state(),
        "best": None,
    }
    save_checkpoint(tmp_path, 3, net.state_dict(), state, best=False)
    loaded = load_checkpoint(tmp_path)
    assert loaded.epoch == 3 and loaded.state["python"] == random.getstate()
    assert loaded.state["numpy"] == np.random.get_state()[2:]
    assert torch.equal(loaded.state["torch"], torch.get_rng_state())
    assert loaded.state["scheduler"] == scheduler.state_dict()
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.weights[key], value)
    # a fresh optimizer given the stored state takes exactly the same next step
    twin, twin_optimizer, _ = trained_adam()
    twin_optimizer.load_state_dict(loaded.state["optimizer"])
    for model, opt in ((net, optimizer), (twin, twin_optimizer)):
        torch.manual_seed(1)
        opt.zero_grad()
        model(torch.randn(16, 4)).square().mean().backward()
        opt.step()
    for a, b in zip(net.parameters(), twin.parameters()):
        assert torch.equal(a, b)


def test_encode_state_rejects_objects_it_cannot_store():
    with pytest.raises(CheckpointError, match="cannot store function at .schedule"):
        encode_state({"schedule": lambda step: step})


def test_state_keeps_int_keys_tuples_and_nesting():
    state = {0: {"step": torch.tensor(3.0)}, "groups": [{"betas": (0.9, 0.99), "params": [0, 1]}]}
    tensors, skeleton = encode_state(state)
    assert decode_state(skeleton, tensors) == {
        0: {"step": tensors[".0.step"]},
        "groups": [{"betas": (0.9, 0.99), "params": [0, 1]}],
    }


def test_last_and_best_links_and_old_checkpoints_are_pruned(tmp_path):
    weights = {"w": torch.zeros(2)}
    for epoch, best in ((1, True), (2, False), (3, False), (4, True), (5, False)):
        save_checkpoint(
            tmp_path, epoch, {"w": torch.full((2,), float(epoch))}, {"epoch": epoch}, best=best
        )
    folder = tmp_path / "checkpoints"
    assert os.readlink(folder / "last") == "epoch-0005"
    assert os.readlink(folder / "best") == "epoch-0004"
    assert sorted(p.name for p in folder.iterdir()) == ["best", "epoch-0004", "epoch-0005", "last"]
    assert load_checkpoint(tmp_path, "best").weights["w"].tolist() == [4.0, 4.0]
    assert weights["w"].sum() == 0


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(2)}, {"epoch": 1}, best=True)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints, "save_file", disk_full)
    with pytest.raises(
        CheckpointError, match="disk is full.*previous checkpoint \\(epoch-0001\\) is intact"
    ):
        save_checkpoint(tmp_path, 2, {"w": torch.ones(2) * 2}, {"epoch": 2}, best=True)
    assert load_checkpoint(tmp_path).epoch == 1
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "best",
        "epoch-0001",
        "last",
    ]


class Crash(BaseException):
    """Stands for the process dying at a given system call."""


@pytest.mark.parametrize("crash_at", ["write", "rename", "link", "swap"])
def test_a_crash_at_any_step_of_a_write_leaves_a_loadable_last(tmp_path, monkeypatch, crash_at):
    save_checkpoint(tmp_path, 1, {"w": torch.ones(2)}, {"epoch": 1}, best=True)
    real_replace, real_symlink = os.replace, os.symlink
    calls = {"replace": 0}

    def replace(src, dst):
        calls["replace"] += 1
        if (crash_at == "rename" and calls["replace"] == 1) or (
            crash_at == "swap" and calls["replace"] == 2
        ):
            raise Crash
        return real_replace(src, dst)

    def symlink(src, dst):
        if crash_at == "link":
            raise Crash
        return real_symlink(src, dst)

    def save_file(tensors, path, metadata=None):
        if crash_at == "write":
            open(path, "wb").write(b"\x00" * 5)  # a torn file
            raise Crash
        return checkpoints.__dict__["_real_save_file"](tensors, path, metadata)

    monkeypatch.setitem(checkpoints.__dict__, "_real_save_file", checkpoints.save_file)
    monkeypatch.setattr(checkpoints, "save_file", save_file)
    monkeypatch.setattr(checkpoints.os, "replace", replace)
    monkeypatch.setattr(checkpoints.os, "symlink", symlink)
    with pytest.raises(Crash):
        save_checkpoint(tmp_path, 2, {"w": torch.ones(2) * 2}, {"epoch": 2}, best=False)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path).epoch == 1  # never a broken `last`
    # and the next write (a resumed run redoing epoch 2) succeeds over the debris
    save_checkpoint(tmp_path, 2, {"w": torch.ones(2) * 2}, {"epoch": 2}, best=False)
    assert load_checkpoint(tmp_path).weights["w"].tolist() == [2.0, 2.0]


def test_an_unreadable_checkpoint_is_a_clear_error(tmp_path):
    target = save_checkpoint(tmp_path, 1, {"w": torch.ones(2)}, {"epoch": 1}, best=False)
    (target / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path)
    assert load_checkpoint(tmp_path / "nothing-here") is None
