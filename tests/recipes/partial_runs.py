"""Helpers for the recipes' tests: a run stopped after its first epoch (as if killed there, for
the exact-resume tests), and a shortened test split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ember.plots import feature_maps
from ember.recipes.images import load_images
from ember.runs import training
from ember.train.callback import Callback

TEST_IMAGES = 1000  # the first 1,000 test images hold every class; enough to score, and quick


def shorten_test_split(monkeypatch: pytest.MonkeyPatch, recipe_module: Any) -> None:
    """Make ``recipe_module`` load only the first TEST_IMAGES test images, and t-SNE fewer points."""

    def load(*args: Any, **kwargs: Any) -> Any:
        data = load_images(*args, **kwargs)
        data.test = (data.test[0][:TEST_IMAGES], data.test[1][:TEST_IMAGES])
        return data

    monkeypatch.setattr(recipe_module, "load_images", load)
    monkeypatch.setitem(feature_maps.MAX_POINTS, "tsne", 150)  # t-SNE of 2,000 points: ~14 s


class StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if epoch == 0:
            self.trainer.stop_training = True


def train_first_epoch(recipe: Any, config: Any, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Train ``recipe`` with ``config`` into ``out``, stopping after epoch 1's checkpoint."""
    build = training.Recipe.build

    def build_and_stop(self: Any, config: Any) -> Any:
        experiment = build(self, config)
        experiment.callbacks.append(StopAfterFirstEpoch())
        return experiment

    with monkeypatch.context() as patch:
        patch.setattr(training.Recipe, "build", build_and_stop)
        training.train(recipe, config, out=out, verbose=0)
