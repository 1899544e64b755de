"""A shared check for the task tests: a bad input fails before any training step."""

import pytest
import torch

import ember


def fails_before_any_step(task, data, error, match):
    """``fit`` raises ``error`` matching ``match``, with no step taken and no weight moved."""
    trainer = ember.Trainer(task, "adam", epochs=1, device="cpu")
    before = [p.detach().clone() for p in task.module.parameters()]
    with pytest.raises(error, match=match):
        trainer.fit(data, verbose=0)
    assert trainer.global_step == 0
    assert all(torch.equal(a, b) for a, b in zip(before, task.module.parameters()))
