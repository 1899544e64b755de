"""The ``fashion-adversarial`` recipe on a slice of Fashion-MNIST: robust accuracy in the run's
metrics and report, each training mode, and radii outside the pixel range refused."""

from __future__ import annotations

import pytest
from partial_runs import shorten_test_split

from ember import recipes
from ember.errors import ConfigError
from ember.recipes import fashion_cnn
from ember.runs import training

TINY = {
    "epochs": 1,
    "train_samples": 600,
    "eval_epsilons": (0.0, 0.1),
    "eval_steps": 3,
    "device": "cpu",
}


@pytest.fixture(autouse=True)
def small_test_split(monkeypatch):
    shorten_test_split(monkeypatch, fashion_cnn)


@pytest.mark.parametrize("mode", ["fast", "clean"])
def test_a_run_reports_accuracy_under_attack(tmp_path, mode):
    recipe = recipes.get("fashion-adversarial")
    result = training.train(recipe, recipe.config(**TINY, training=mode), root=tmp_path, verbose=0)
    test = result.test
    assert 0 <= test["robust_accuracy@0.1"] <= test["robust_accuracy@0"] <= 1
    assert test["robust_accuracy@0"] == pytest.approx(test["accuracy"], abs=0.05)
    curve = result.run_dir / "evaluation" / "test" / "robust-accuracy.png"
    assert curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pgd_training_runs_and_bad_radii_are_refused(tmp_path):
    recipe = recipes.get("fashion-adversarial")
    config = recipe.config(**{**TINY, "train_samples": 200}, training="pgd", pgd_steps=2)
    assert training.train(recipe, config, root=tmp_path, verbose=0).test["accuracy"] > 0
    with pytest.raises(ConfigError, match="epsilon"):
        recipe.check(recipe.config(eval_epsilons=(0.0, 2.0)))
    with pytest.raises(ConfigError, match="epsilon"):
        recipe.check(recipe.config(epsilon=1.5))
