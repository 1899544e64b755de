"""A small trained classifier run, shared by the deployment tests."""

from __future__ import annotations

import pytest

from ember import recipes
from ember.runs import training


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    recipe = recipes.get("fashion-mlp")
    config = recipe.config(epochs=1, train_samples=600, hidden_units=8, device="cpu")
    folder = tmp_path_factory.mktemp("export") / "mlp"
    training.train(recipe, config, out=folder, verbose=0)
    return folder
