"""A run stopped after its first epoch, as if killed there: for the recipes' exact-resume tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ember.runs import training
from ember.train.callback import Callback


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == 0:
            self.trainer.stop_training = True


def train_first_epoch(recipe: Any, config: Any, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train ``recipe`` with ``config`` into ``out``, stopping after epoch 1's checkpoint."""
    build = training.Recipe.build

    def build_and_stop(self: Any, config: Any) -> Any:
        experiment = build(self, config)
        experiment.trainer.callbacks.append(StopAfterFirstEpoch())
        return experiment

    with monkeypatch.context() as patch:
        patch.setattr(training.Recipe, "build", build_and_stop)
        training.train(recipe, config, out=out, verbose=0)
