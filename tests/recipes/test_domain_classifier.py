"""The domain classifier: trained once, cached, reloaded bitwise; domain FID and class coverage."""

from __future__ import annotations

import pytest
import torch
from fake_images import draw, install

from ember import layers
from ember.errors import DataError
from ember.models.sequential import Sequential
from ember.recipes import domain_classifier as dc
from ember.recipes.images import load_images


@pytest.fixture(autouse=True)
def tiny_datasets(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)


def bar_classifier() -> dc.DomainClassifier:
    """A hand-set classifier: class k's score is the brightness of its bar (rows 2k+4, 2k+5)."""
    network = Sequential(
        [layers.Flatten(input_shape=(28, 28, 1)), layers.Dense(10, activation="softmax")]
    )
    with torch.no_grad():
        masks = torch.zeros(10, 28, 28)
        for k in range(10):
            masks[k, 2 * k + 4 : 2 * k + 6, 3:25] = 1.0
        network.layers[1].weight.copy_(masks.flatten(1))
        network.layers[1].bias.zero_()
    return dc.DomainClassifier(network, "fake", None, 1.0, trained=False)


def as_floats(pixels) -> torch.Tensor:
    return torch.from_numpy(pixels).float().div(255).unsqueeze(-1)  # (N, 28, 28, 1)


def test_the_classifier_is_trained_once_cached_and_reloaded_bitwise(tmp_path, monkeypatch):
    state = torch.get_rng_state()
    first = dc.domain_classifier("fashion_mnist")
    assert first.trained and first.path.is_file()
    assert first.path.parent == tmp_path / "data" / "classifiers"  # data_home()/classifiers
    assert first.path.name == dc.classifier_path("fashion_mnist").name
    assert 0.0 <= first.test_accuracy <= 1.0
    assert torch.equal(torch.get_rng_state(), state)  # trained on its own random numbers

    def no_training(*args, **kwargs):
        raise AssertionError("the cached classifier was trained again")

    monkeypatch.setattr(dc, "_train", no_training)
    second = dc.domain_classifier("fashion_mnist")
    assert not second.trained and second.test_accuracy == first.test_accuracy
    weights, again = first.network.state_dict(), second.network.state_dict()
    assert weights.keys() == again.keys()
    assert all(torch.equal(weights[name], again[name]) for name in weights)


def test_training_is_deterministic_and_the_cache_name_follows_the_spec(tmp_path, monkeypatch):
    a = dc.domain_classifier("mnist", cache_dir=tmp_path / "a")
    torch.manual_seed(123)  # the caller's random state does not matter
    with torch.no_grad():  # nor its grad mode (a scorer under no_grad trains it the first time)
        b = dc.domain_classifier("mnist", cache_dir=tmp_path / "b")
    assert a.trained and b.trained
    for name, tensor in a.network.state_dict().items():
        assert torch.equal(tensor, b.network.state_dict()[name]), name
    name = dc.classifier_path("mnist").name
    assert name.startswith("mnist-") and name.endswith(".safetensors")
    monkeypatch.setitem(dc.SPEC, "dropout", 0.5)
    assert dc.classifier_path("mnist").name != name  # a changed network gets its own file


def test_fid_of_the_test_images_with_themselves_is_zero_and_rises_for_noise():
    classifier = dc.domain_classifier("fashion_mnist")
    data = load_images("fashion_mnist", validation_size=0, seed=0)
    test, train = data.test[0], data.train[0][:100]
    noise = torch.rand(100, 28, 28, 1, generator=torch.Generator().manual_seed(0))
    same = dc.sample_quality(classifier, test, test).fid
    real = dc.sample_quality(classifier, test, train).fid
    random = dc.sample_quality(classifier, test, noise).fid
    assert same == pytest.approx(0.0, abs=1e-6)
    assert random > 10 * max(real, 1e-3)


def test_coverage_counts_the_predicted_classes_and_conditional_accuracy_the_matches():
    labels = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    generated = as_floats(draw(labels.numpy(), seed=2))
    conditioning = labels.clone()
    conditioning[:6] = 1  # 6 of class 0's samples claim to be class 1: 94% match
    quality = dc.sample_quality(bar_classifier(), generated, generated, conditioning)
    torch.testing.assert_close(
        quality.coverage, torch.tensor([0.6, 0.3, 0.1] + [0.0] * 7, dtype=torch.float64)
    )
    metrics = quality.metrics(min_share=0.05)
    assert metrics["coverage_min"] == 0.0 and metrics["coverage_max"] == pytest.approx(0.6)
    assert metrics["classes_covered"] == 3.0
    assert metrics["conditional_accuracy"] == pytest.approx(0.94)
    # Class 1 was claimed by 36 samples, 30 of them class 1's bars.
    assert quality.per_class_accuracy[:3].tolist() == pytest.approx([1.0, 30 / 36, 1.0])


def test_bad_images_and_labels_are_clear_errors():
    classifier = bar_classifier()
    with pytest.raises(DataError, match="floats in \\[0, 1\\]"):
        classifier.features_and_classes(torch.zeros(4, 28, 28, 1, dtype=torch.uint8))
    x = torch.rand(8, 28, 28, 1)
    with pytest.raises(DataError, match="one conditioning label per generated image"):
        dc.sample_quality(classifier, x, x, labels=torch.zeros(5))


def test_a_verbose_first_use_says_it_trains_once_and_where_and_later_uses_say_loaded(capsys):
    first = dc.domain_classifier("fashion_mnist", verbose=1)
    lines = capsys.readouterr().out.splitlines()
    # Before training: what, why, how long, where it is cached, and that it happens once.
    assert lines[0].startswith("Training the fashion_mnist domain classifier that scores generated")
    assert lines[0].endswith("a small CNN, 8 epochs on 200 images.")
    assert lines[1] == (
        f"This happens once: it is cached in {first.path} and loaded from there by every later run."
    )
    # Then the engine's own progress bar, one epoch after the other.
    assert [line for line in lines if line.startswith("Epoch ")] == [
        f"Epoch {epoch}/8" for epoch in range(1, 9)
    ]
    assert lines[2] == "Epoch 1/8" and lines[3].startswith("2/2 ")  # 200 images at batch 128
    accuracy = f"test accuracy {first.test_accuracy:.4f}"
    assert (
        lines[-1]
        == f"Trained and cached the fashion_mnist domain classifier ({accuracy}) in {first.path}"
    )

    dc.domain_classifier("fashion_mnist", verbose=1)
    assert capsys.readouterr().out == (
        f"Loaded the fashion_mnist domain classifier ({accuracy}) from the cache {first.path}\n"
    )
    dc.domain_classifier("fashion_mnist")  # verbose=0: silent
    assert capsys.readouterr().out == ""
