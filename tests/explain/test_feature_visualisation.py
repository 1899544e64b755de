"""First-layer filters, activation maximisation and most-confused pairs, against references."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import confusion_matrix

from ember import explain, layers, models
from ember.errors import ConfigError


def cnn() -> models.Sequential:
    torch.manual_seed(0)
    net = models.Sequential(
        [
            layers.Conv2D(6, (3, 3), activation="relu", input_shape=(12, 12, 1)),
            layers.Conv2D(4, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    net(torch.zeros(1, 12, 12, 1))
    return net.eval()


def test_first_layer_filters_are_the_first_convolutions_kernels_rescaled(tmp_path):
    net = cnn()
    filters = explain.first_layer_filters(net)
    weight = net.layers[0].weight.detach()  # (6, 1, 3, 3)
    assert filters.shape == (6, 3, 3, 1)
    assert filters.amin(dim=(1, 2, 3)).allclose(torch.zeros(6))
    assert filters.amax(dim=(1, 2, 3)).allclose(torch.ones(6))
    # the same ordering of values as the kernel: a rescaling, not a new picture
    torch.testing.assert_close(
        filters[2, :, :, 0].flatten().argsort(), weight[2, 0].flatten().argsort()
    )
    path = explain.plot_images(filters, list("abcdef"), tmp_path / "f.png", "filters")
    assert path.read_bytes()[:4] == b"\x89PNG"
    dense = models.Sequential([layers.Flatten(input_shape=(4, 4, 1)), layers.Dense(2)])
    with pytest.raises(ConfigError, match="2-D convolution"):
        explain.first_layer_filters(dense)


def test_maximize_class_raises_each_class_score_until_the_model_picks_it():
    net = cnn()
    images = explain.maximize_class(net, (12, 12, 1), [0, 1, 2], steps=60, learning_rate=0.1)
    assert images.shape == (3, 12, 12, 1) and images.min() >= 0 and images.max() <= 1
    with torch.no_grad():
        logits = net.logits(images)
        start = net.logits(torch.full((3, 12, 12, 1), 0.5))
    assert logits.argmax(1).tolist() == [0, 1, 2]
    assert (logits.diagonal() > start.diagonal()).all()
    assert net.training is False


def test_most_confused_counts_the_confusion_matrix_off_its_diagonal():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (300,), generator=generator)
    predicted = torch.where(torch.rand(300, generator=generator) < 0.3, (labels + 1) % 4, labels)
    pairs = explain.most_confused(labels, predicted, list("abcd"), top=3)
    matrix = confusion_matrix(labels.numpy(), predicted.numpy())
    off = [(matrix[t, p], t, p) for t in range(4) for p in range(4) if t != p and matrix[t, p]]
    expected = sorted(off, key=lambda item: -item[0])[:3]
    assert [count for _, _, count in pairs] == [int(c) for c, _, _ in expected]
    assert all(matrix["abcd".index(t), "abcd".index(p)] == n for t, p, n in pairs)
