"""The ``vae`` recipe on slices of MNIST and Fashion-MNIST: ELBO terms, figures, exact resume."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from partial_runs import shorten_test_split, train_first_epoch

from ember import recipes
from ember.errors import ConfigError
from ember.recipes import vae
from ember.runs import load_checkpoint, metrics_log, training
from ember.zoo.vae import standard_normal_kl

PNG = b"\x89PNG\r\n\x1a\n"
TINY = {"epochs": 1, "train_samples": 1200, "batch_size": 64, "hidden": (32,), "device": "cpu"}


@pytest.fixture(autouse=True)
def small_test_split(monkeypatch):
    shorten_test_split(monkeypatch, vae)


def figures(run_dir):
    folder = run_dir / "evaluation" / "test"
    return {path.name: path.read_bytes()[:8] == PNG for path in folder.glob("*.png")}


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_vae_reports_the_negative_elbo_as_reconstruction_plus_kl(tmp_path, dataset):
    recipe = recipes.get("vae")
    config = recipe.config(**TINY, dataset=dataset)
    result = training.train(recipe, config, root=tmp_path, verbose=0)
    test = result.test
    assert test["loss"] == pytest.approx(test["reconstruction"] + test["kl"], rel=1e-5)
    # The same terms by hand: the KL in closed form, and the summed BCE of one sampled z per
    # image (another draw than the evaluation's, so equal up to the sampling noise of a mean
    # over 1,000 images).
    experiment, _ = training.load_experiment(result.run_dir)
    x, _ = experiment.data.test
    network = experiment.network.eval()
    torch.manual_seed(1)
    with torch.no_grad():
        mean, logvar = network.encode(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        bce = F.binary_cross_entropy_with_logits(network.decode(z), x, reduction="sum") / len(x)
        kl = standard_normal_kl(mean, logvar).mean()
    assert test["kl"] == pytest.approx(kl.item(), rel=1e-4)
    assert test["reconstruction"] == pytest.approx(bce.item(), rel=0.01)
    assert test["reconstruction"] < 784 * math.log(2)  # better than a fair coin per pixel
    assert figures(result.run_dir) == {
        "samples.png": True,
        "interpolation.png": True,
        "latent_means-pca.png": True,
        "latent_means-tsne.png": True,
    }


def test_a_2d_latent_space_is_drawn_as_a_decoded_grid_and_a_map_of_the_means(tmp_path):
    recipe = recipes.get("vae")
    result = training.train(recipe, recipe.config(**TINY, latent_size=2), root=tmp_path, verbose=0)
    assert set(figures(result.run_dir)) == {
        "samples.png",
        "interpolation.png",
        "latent_means.png",
        "latent_grid.png",
    }


def test_a_stopped_vae_run_resumes_to_the_same_weights_and_test_loss(tmp_path, monkeypatch):
    recipe = recipes.get("vae")
    config = recipe.config(**{**TINY, "epochs": 2, "train_samples": 600})
    whole = training.train(recipe, config, out=tmp_path / "whole", verbose=0)

    train_first_epoch(recipe, config, tmp_path / "part", monkeypatch)
    assert load_checkpoint(tmp_path / "part").epoch == 1
    resumed = training.resume(tmp_path / "part", verbose=0)
    expected, got = load_checkpoint(tmp_path / "whole").weights, load_checkpoint(tmp_path / "part")
    assert got.epoch == 2 and expected.keys() == got.weights.keys()
    for key in expected:
        assert torch.equal(expected[key], got.weights[key]), key
    # The sampled z of every training step and of the test evaluation were the same too.
    logs = [metrics_log.epochs(tmp_path / run / "metrics.jsonl") for run in ("whole", "part")]
    assert [e["loss"] for e in logs[0]] == [e["loss"] for e in logs[1]]
    assert resumed.test["loss"] == whole.test["loss"]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"latent_size": 0}, r"latent_size=0\. Fix: --set latent_size=20"),
        ({"hidden": (400, 0)}, r"hidden=\(400, 0\)\. Fix: --set hidden=400"),
        ({"schedule": "step"}, r"schedule='step'\. Fix: --set schedule=cosine"),
    ],
    ids=["latent_size", "hidden", "schedule"],
)
def test_bad_vae_settings_fail_with_a_fix_before_anything_is_written(tmp_path, fields, match):
    recipe = recipes.get("vae")
    with pytest.raises(ConfigError, match=match):
        training.train(recipe, recipe.config(**{**TINY, **fields}), out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()
