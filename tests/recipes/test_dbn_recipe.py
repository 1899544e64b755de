"""``dbn`` on tiny fake digits: the labelled split, pretraining then fine-tuning, the scratch
baseline, exact resume without pretraining again, bad configs."""

from __future__ import annotations

import pytest
import torch
from fake_images import install
from partial_runs import train_first_epoch

from ember import recipes
from ember.errors import ConfigError
from ember.models.dbn import DeepBeliefNetwork
from ember.recipes.dbn import split_labelled
from ember.recipes.images import load_images
from ember.runs import load_checkpoint, metrics_log, training

TINY = {
    "labelled": 50,
    "hidden": (16, 8),
    "pretrain_epochs": 1,
    "pretrain_batch_size": 32,
    "epochs": 2,
    "batch_size": 10,
    "device": "cpu",
}


@pytest.fixture(autouse=True)
def tiny_datasets(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)  # 200 training and 100 test images


@pytest.fixture
def pretrain_calls(monkeypatch):
    """Every DeepBeliefNetwork.pretrain call: (the DBN, the images it was given)."""
    calls = []
    pretrain = DeepBeliefNetwork.pretrain

    def spy(self, x, **kwargs):
        calls.append((self, x))
        return pretrain(self, x, **kwargs)

    monkeypatch.setattr(DeepBeliefNetwork, "pretrain", spy)
    return calls


def test_the_labelled_images_are_a_stratified_subset_and_pretraining_sees_all_images():
    recipe = recipes.get("dbn")
    data = load_images("mnist", validation_size=0, seed=0)
    labelled, unlabelled = split_labelled(data, recipe.config(labelled=50, seed=3))
    x, y = labelled.train
    assert len(x) == 50 and torch.bincount(y, minlength=10).tolist() == [5] * 10
    assert labelled.val is None and labelled.test is data.test
    assert torch.equal(unlabelled, data.train[0])
    again, _ = split_labelled(data, recipe.config(labelled=50, seed=3))
    assert torch.equal(again.train[0], x)  # one seed, one labelled set (pretrained or not)
    _, subset = split_labelled(data, recipe.config(labelled=50, unlabelled=120))
    assert subset.shape == (120, 28, 28, 1)


def test_dbn_pretrains_on_unlabelled_images_then_fine_tunes_the_mlp(tmp_path, pretrain_calls):
    recipe = recipes.get("dbn")
    # A learning rate of ~0: after fine-tuning the MLP still holds the pretrained weights.
    config = recipe.config(**TINY, learning_rate=1e-12)
    result = training.train(recipe, config, out=tmp_path / "run", verbose=0)
    assert len(pretrain_calls) == 1
    dbn, images = pretrain_calls[0]
    assert images.shape == (200, 28, 28, 1)  # all training images, labels unread
    weights = load_checkpoint(tmp_path / "run").weights
    for index, rbm in enumerate(dbn.rbms, start=1):  # layers: Flatten, Dense, Dense, head
        torch.testing.assert_close(weights[f"layers.{index}.weight"], rbm.weight.detach())
        torch.testing.assert_close(weights[f"layers.{index}.bias"], rbm.hidden_bias.detach())
    first = metrics_log.epochs(tmp_path / "run" / "metrics.jsonl")[0]
    assert first["pretrain_seconds"] > 0
    assert 0 < first["rbm1_reconstruction"] < 1 and 0 < first["rbm2_reconstruction"] < 1
    assert {"accuracy", "f1", "roc_auc"} <= set(result.test)  # the classification evaluation
    assert (tmp_path / "run" / "evaluation" / "test.safetensors").is_file()


def test_the_scratch_baseline_trains_no_rbm(tmp_path, pretrain_calls):
    recipe = recipes.get("dbn")
    result = training.train(
        recipe, recipe.config(**TINY, pretrain=False), out=tmp_path / "run", verbose=0
    )
    assert pretrain_calls == [] and result.finished and 0 <= result.test["accuracy"] <= 1
    epochs = metrics_log.epochs(tmp_path / "run" / "metrics.jsonl")
    assert not any(key.startswith(("pretrain", "rbm")) for key in epochs[0])


def test_a_resumed_dbn_run_ends_bitwise_equal_without_pretraining_again(
    tmp_path, monkeypatch, pretrain_calls
):
    recipe = recipes.get("dbn")
    config = recipe.config(**TINY)
    training.train(recipe, config, out=tmp_path / "whole", verbose=0)

    train_first_epoch(recipe, config, tmp_path / "part", monkeypatch)
    assert len(pretrain_calls) == 2
    training.resume(tmp_path / "part", verbose=0)
    assert len(pretrain_calls) == 2  # the checkpoint holds the fine-tuned weights
    whole, part = load_checkpoint(tmp_path / "whole"), load_checkpoint(tmp_path / "part")
    assert part.epoch == whole.epoch == 2
    for name in whole.weights:
        assert torch.equal(whole.weights[name], part.weights[name]), name


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"labelled": 0}, "received labelled=0"),
        ({"labelled": -5}, "received labelled=-5"),
        ({"labelled": 200}, "expected labelled < 200"),
        ({"unlabelled": 0}, "received unlabelled=0"),
        ({"hidden": ()}, "one per RBM"),
        ({"learning_rate": 0.0}, "positive learning_rate"),
    ],
)
def test_bad_configs_fail_before_any_training(tmp_path, monkeypatch, overrides, message):
    def no_fit(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(training, "_run", no_fit)
    recipe = recipes.get("dbn")
    with pytest.raises(ConfigError, match=message):
        training.train(recipe, recipe.config(**{**TINY, **overrides}), root=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
