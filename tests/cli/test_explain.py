"""ember explain: overlay PNGs for a CNN run's images by each method; clean refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ember import recipes
from ember.cli import main
from ember.runs import training

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    recipe = recipes.get("fashion-cnn")
    config = recipe.config(epochs=1, train_samples=300, filters=(4, 4, 4), device="cpu")
    folder = tmp_path_factory.mktemp("explain") / "cnn"
    training.train(recipe, config, out=folder, verbose=0)
    return folder


@pytest.fixture(scope="module")
def pictures(cnn_run, tmp_path_factory):
    experiment, _ = training.load_experiment(cnn_run)
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for index in range(3):
        pixels = (experiment.data.test[0][index, :, :, 0].numpy() * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"item{index}.png")
        paths.append(str(folder / f"item{index}.png"))
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "large.png")
    return paths, folder / "large.png"


@pytest.mark.parametrize("method", ["gradcam", "saliency", "smoothgrad", "ig"])
def test_each_method_writes_an_overlay(cnn_run, pictures, tmp_path, capsys, method):
    paths, _ = pictures
    assert main(["explain", str(cnn_run), *paths, "--method", method, "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{method}.png").read_bytes()[:8] == PNG
    assert f"{method} over 3 image(s)" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["filters", "classes"])
def test_filters_and_class_images_need_no_images(cnn_run, tmp_path, capsys, method):
    assert main(["explain", str(cnn_run), "--method", method, "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{method}.png").read_bytes()[:8] == PNG
    assert "wrote" in capsys.readouterr().out


def test_the_run_report_shows_grad_cam_overlays(cnn_run):
    panel = cnn_run / "evaluation" / "test" / "explanations-gradcam.png"
    assert panel.read_bytes()[:8] == PNG
    assert 'alt="explanations-gradcam"' in (cnn_run / "report.html").read_text()


def test_bad_requests_are_refused_with_what_is_expected(cnn_run, pictures, tmp_path, capsys):
    paths, large = pictures
    assert main(["explain", str(cnn_run), *paths, "--method", "lime"]) == 2
    assert "one of saliency, smoothgrad, ig, gradcam, filters, classes" in capsys.readouterr().err
    assert main(["explain", str(cnn_run), "--method", "saliency"]) == 2
    assert "draws over images" in capsys.readouterr().err
    assert main(["explain", str(cnn_run), str(large), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "28" in error and "32" in error  # what the model expects, and what it received
    assert not list(tmp_path.iterdir())
