"""The autoencoder recipes on slices of MNIST and Fashion-MNIST: codes, PSNR, anomaly ROC-AUC."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from partial_runs import shorten_test_split
from sklearn.metrics import roc_auc_score

from ember import recipes
from ember.errors import ConfigError
from ember.recipes import autoencoders
from ember.recipes.images import load_images
from ember.runs import training

PNG = b"\x89PNG\r\n\x1a\n"
TINY = {"epochs": 1, "train_samples": 1200, "batch_size": 64, "device": "cpu"}


@pytest.fixture(autouse=True)
def small_test_split(monkeypatch):
    shorten_test_split(monkeypatch, autoencoders)


def train(tmp_path, name, **fields):
    recipe = recipes.get(name)
    result = training.train(recipe, recipe.config(**{**TINY, **fields}), root=tmp_path, verbose=0)
    assert result.finished
    experiment, _ = training.load_experiment(result.run_dir)
    return result, experiment


def figures(result):
    folder = result.run_dir / "evaluation" / "test"
    return {path.name: path.read_bytes()[:8] == PNG for path in folder.glob("*.png")}


def test_autoencoder_logs_the_test_reconstruction_loss_and_plots_2d_codes(tmp_path):
    result, experiment = train(tmp_path, "autoencoder", widths=(32,))
    x, _ = experiment.data.test
    network = experiment.network.eval()
    with torch.no_grad():
        by_hand = F.binary_cross_entropy(network(x), x).item()  # mean over every pixel
    assert result.test["loss"] == pytest.approx(by_hand, rel=1e-4)
    assert result.test["reconstruction"] == pytest.approx(by_hand, rel=1e-4)
    assert network.encode(x[:3]).shape == (3, 2)
    assert figures(result) == {"codes.png": True, "reconstructions.png": True}
    page = (result.run_dir / "report.html").read_text()
    assert 'alt="codes"' in page and 'alt="reconstructions"' in page


def test_longer_codes_are_drawn_with_pca_and_tsne(tmp_path):
    result, _ = train(tmp_path, "autoencoder", widths=(32,), code_size=8)
    assert figures(result) == {
        "codes-pca.png": True,
        "codes-tsne.png": True,
        "reconstructions.png": True,
    }


def test_denoising_psnr_is_ten_log10_of_one_over_the_mse(tmp_path):
    result, experiment = train(
        tmp_path, "denoising-autoencoder", widths=(4, 8), code_size=16, dataset="mnist"
    )
    x, _ = experiment.data.test
    generator = torch.Generator().manual_seed(autoencoders.NOISE_SEED)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=generator)).clamp(0, 1)
    with torch.no_grad():
        denoised = experiment.network.eval()(noisy)
    noisy_db = 10 * math.log10(1 / torch.mean((noisy - x) ** 2).item())
    denoised_db = 10 * math.log10(1 / torch.mean((denoised - x) ** 2).item())
    test = result.test
    assert test["psnr_noisy"] == pytest.approx(noisy_db, abs=1e-4)
    assert test["psnr_denoised"] == pytest.approx(denoised_db, abs=1e-3)
    assert test["psnr_gain"] == pytest.approx(test["psnr_denoised"] - test["psnr_noisy"])
    # Clipped noise of std 0.3 on mostly black digits: a mean squared error near 0.05, ~13 dB.
    assert 12 < test["psnr_noisy"] < 15
    assert figures(result) == {"denoising.png": True}


def test_the_anomaly_split_leaves_the_held_out_class_out_of_training_and_validation():
    recipe = recipes.get("anomaly-autoencoder")
    experiment = recipe.build(recipe.config(**TINY, held_out=3))
    full = load_images("mnist", validation_size=0.1, seed=0, train_samples=1200)
    for split, labels in (("train", full.train[1]), ("val", full.val[1])):
        kept = experiment.data.split(split)[1]
        assert 3 not in kept.tolist()
        assert sorted(kept.tolist()) == sorted(label for label in labels.tolist() if label != 3)
    assert (experiment.data.test[1] == 3).sum() > 0  # the test images keep every class


def test_anomaly_roc_auc_matches_scikit_learn_on_the_reconstruction_errors(tmp_path):
    result, experiment = train(tmp_path, "anomaly-autoencoder", widths=(32,), held_out=1)
    x, labels = experiment.data.test
    with torch.no_grad():
        errors = ((experiment.network.eval()(x) - x) ** 2).flatten(1).mean(1)
    expected = roc_auc_score((labels == 1).numpy(), errors.numpy())
    assert result.test["roc_auc"] == pytest.approx(expected, abs=1e-6)
    assert result.test["score_held_out"] == pytest.approx(errors[labels == 1].mean().item())
    assert result.test["score_normal"] == pytest.approx(errors[labels != 1].mean().item())
    assert figures(result) == {"scores.png": True}
    # The validation images hold no anomaly, so they have no ROC-AUC.
    assert math.isnan(training.evaluate(result.run_dir, "val")["roc_auc"])


@pytest.mark.parametrize(
    ("name", "fields", "match"),
    [
        ("anomaly-autoencoder", {"held_out": 10}, r"held_out in 0\.\.9 .*held_out=10\. Fix:"),
        ("anomaly-autoencoder", {"held_out": -1}, r"held_out=-1\. Fix: --set held_out=0"),
        ("autoencoder", {"code_size": 0}, r"code_size=0\. Fix: --set code_size=2"),
        ("denoising-autoencoder", {"noise_std": 0.0}, r"noise_std=0\. Fix: --set noise_std=0.3"),
        ("autoencoder", {"kind": "sparse"}, r"kind in autoencoder, denoising, anomaly"),
    ],
    ids=["held_out_10", "held_out_negative", "code_size", "noise_std", "kind"],
)
def test_bad_settings_fail_with_a_fix_before_anything_is_written(tmp_path, name, fields, match):
    recipe = recipes.get(name)
    with pytest.raises(ConfigError, match=match):
        training.train(recipe, recipe.config(**{**TINY, **fields}), out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()
