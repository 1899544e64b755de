"""``gan`` and ``cgan`` on tiny fake images: runs, grids, scores and plots, exact resume, bad configs."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from fake_images import install
from matplotlib.image import imread
from partial_runs import train_first_epoch
from torch import nn

from ember import recipes
from ember.cli import main
from ember.errors import ConfigError
from ember.recipes.domain_classifier import classifier_path
from ember.recipes.gan import evaluate_samples
from ember.runs import load_checkpoint, metrics_log, training

TINY = {
    "epochs": 1,
    "width": 8,
    "latent_size": 16,
    "batch_size": 32,
    "grid_samples": 20,
    "eval_samples": 100,
    "device": "cpu",
}
SCORES = {"fid", "fid_real", "coverage_min", "coverage_max", "classes_covered"}


@pytest.fixture(autouse=True)
def tiny_datasets(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)


def test_gan_trains_draws_a_grid_per_epoch_and_scores_its_samples(tmp_path):
    recipe = recipes.get("gan")
    result = training.train(
        recipe, recipe.config(**{**TINY, "epochs": 2}), out=tmp_path / "run", verbose=0
    )
    run, test = tmp_path / "run", result.test
    assert result.finished and SCORES | {"classifier_accuracy"} <= set(test)
    assert "conditional_accuracy" not in test
    assert math.isfinite(test["fid"]) and test["fid"] >= 0 and test["fid_real"] >= 0
    assert 0 <= test["coverage_min"] <= 0.1 <= test["coverage_max"] <= 1
    assert 0 <= test["classes_covered"] <= 10
    epochs = metrics_log.epochs(run / "metrics.jsonl")
    assert [e["epoch"] for e in epochs] == [1, 2] and {"d_loss", "g_loss"} <= set(epochs[0])
    # 20 samples in a square-ish grid of 5 columns: 4 rows of 28 + 2 pixels, and 2 more.
    grids = sorted(path.name for path in (run / "samples").iterdir())
    assert grids == ["epoch-001.png", "epoch-002.png"]
    assert imread(run / "samples" / "epoch-001.png").shape[:2] == (4 * 30 + 2, 5 * 30 + 2)
    plots = run / "evaluation" / "test"
    assert imread(plots / "samples.png").shape[:2] == (2 * 302, 2 * 302)  # 100, doubled
    assert imread(plots / "samples_by_epoch.png").shape[:2] == (2 * 62, 2 * 152)
    assert (plots / "class_coverage.png").is_file()
    assert not (plots / "conditional_accuracy.png").exists()
    page = (run / "report.html").read_text()
    assert "class coverage" in page and "samples by epoch" in page
    # `ember evaluate` rebuilds the run from its checkpoint: the same samples, the same scores.
    again = training.evaluate(run)
    assert {name: again[name] for name in SCORES} == {name: test[name] for name in SCORES}


def test_cgan_draws_one_column_per_class_and_scores_conditional_accuracy(tmp_path):
    recipe = recipes.get("cgan")
    result = training.train(recipe, recipe.config(**TINY), out=tmp_path / "run", verbose=0)
    assert 0 <= result.test["conditional_accuracy"] <= 1
    run = tmp_path / "run"
    # 20 samples, one column per class: 2 rows of 10.
    assert imread(run / "samples" / "epoch-001.png").shape[:2] == (2 * 30 + 2, 10 * 30 + 2)
    assert (run / "evaluation" / "test" / "conditional_accuracy.png").is_file()


def test_wasserstein_gp_gets_a_layer_norm_critic_five_steps_and_the_papers_adam():
    recipe = recipes.get("gan")
    experiment = recipe.build(recipe.config(**TINY, loss="wasserstein_gp", learning_rate=3e-4))
    task = experiment.trainer.task
    critic = task.module.discriminator
    assert task.loss == "wasserstein_gp" and task.discriminator_steps == 5
    assert not any(isinstance(m, nn.BatchNorm2d) for m in critic.modules())
    assert any(isinstance(m, nn.GroupNorm) for m in critic.modules())
    experiment.trainer.fit(experiment.batches("train"), verbose=0, steps_per_epoch=1)
    group = experiment.trainer.optimizers["d_loss"].param_groups[0]
    assert group["lr"] == pytest.approx(3e-4) and tuple(group["betas"]) == (0.0, 0.9)


def test_a_stopped_gan_run_resumes_to_the_same_weights_grids_and_scores(tmp_path, monkeypatch):
    recipe = recipes.get("cgan")
    config = recipe.config(**{**TINY, "epochs": 2})
    whole = training.train(recipe, config, out=tmp_path / "whole", verbose=0)

    train_first_epoch(recipe, config, tmp_path / "part", monkeypatch)
    part = tmp_path / "part"
    assert load_checkpoint(part).epoch == 1
    assert main(["resume", str(part), "--quiet"]) == 0
    weights, resumed = load_checkpoint(tmp_path / "whole").weights, load_checkpoint(part).weights
    assert weights.keys() == resumed.keys()
    for name in weights:
        assert torch.equal(weights[name], resumed[name]), name
    grids = [(run / "samples" / "epoch-002.png").read_bytes() for run in (tmp_path / "whole", part)]
    assert grids[0] == grids[1]
    records = metrics_log.read(part / "metrics.jsonl")
    scores = [r for r in records if r.get("kind") == "evaluation"][-1]
    assert {name: scores[name] for name in SCORES} == {name: whole.test[name] for name in SCORES}


def test_scoring_says_the_domain_classifier_is_trained_once_then_loaded(tmp_path, capsys):
    recipe = recipes.get("gan")
    experiment = recipe.build(recipe.config(**TINY))
    path = classifier_path("fashion_mnist")
    score = partial(evaluate_samples, experiment, "test", dataset="fashion_mnist", num_samples=20)
    assert not path.exists()
    score(tmp_path / "first")  # a run's evaluator is verbose: the first time it trains
    out = capsys.readouterr().out
    assert out.startswith("Training the fashion_mnist domain classifier that scores generated")
    assert f"This happens once: it is cached in {path}" in out
    assert "Epoch 1/8" in out and "Epoch 8/8" in out
    assert "Trained and cached the fashion_mnist domain classifier (test accuracy " in out
    score(tmp_path / "again")
    assert capsys.readouterr().out.startswith("Loaded the fashion_mnist domain classifier (")
    experiment.verbose = 0  # as a run with --quiet tells it
    score(tmp_path / "quiet")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "name, overrides, message",
    [
        ("gan", {"loss": "hinge"}, "expected loss in non_saturating, wasserstein_gp"),
        ("gan", {"width": 0}, "expected a positive integer, received width=0"),
        ("gan", {"eval_samples": 1}, "expected eval_samples >= 2"),
        ("gan", {"learning_rate": -1.0}, "positive learning_rate"),
        ("cgan", {"grid_samples": 15}, "multiples of 10"),
        ("cgan", {"eval_samples": 1005}, "multiples of 10"),
        ("gan", {"class_loss": 1.0}, "must be conditional"),
        ("cgan", {"loss": "wasserstein_gp"}, "built for the non-saturating loss"),
    ],
)
def test_bad_configs_fail_before_any_training(tmp_path, monkeypatch, name, overrides, message):
    def no_fit(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "_run", no_fit)
    recipe = recipes.get(name)
    with pytest.raises(ConfigError, match=message):
        training.train(recipe, recipe.config(**{**TINY, **overrides}), root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
