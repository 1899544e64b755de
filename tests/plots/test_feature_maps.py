"""Feature maps: penultimate features against hand-run forwards, PCA against sklearn and SVD."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.decomposition import PCA
from torch import nn

from ember import EmberError, layers
from ember.errors import ConfigError, DataError
from ember.models.sequential import Sequential
from ember.plots.feature_maps import embed, feature_map, penultimate_features, plot_feature_map


def _mlp() -> Sequential:
    torch.manual_seed(0)
    return Sequential(
        [
            layers.Flatten(input_shape=(4, 5)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(3, activation="softmax"),
        ]
    )


def test_penultimate_features_of_sequential_equal_forward_through_all_but_last_layer():
    model, x = _mlp(), torch.randn(11, 4, 5)
    model.eval()
    with torch.no_grad():
        reference = x
        for layer in model.layers[:-1]:
            reference = layer(reference)
    features = penultimate_features(model, x, batch_size=4)  # 3 batches, one short
    assert features.shape == (11, 16)
    torch.testing.assert_close(features, reference, atol=1e-6, rtol=1e-6)


def test_numpy_float64_inputs_are_read_as_float32_like_fit():
    model, x = _mlp(), np.random.default_rng(0).random((6, 4, 5))  # x / 255.0 is float64
    expected = penultimate_features(model, torch.from_numpy(x).float())
    torch.testing.assert_close(penultimate_features(model, x), expected)


def test_penultimate_features_skip_trailing_activation_and_dropout_layers():
    torch.manual_seed(0)
    model = Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(6,)),
            layers.Dense(3),
            layers.Dropout(0.3),
            layers.Activation("softmax"),
        ]
    )
    x = torch.randn(7, 6)
    with torch.no_grad():
        reference = model.layers[0](x)  # the input of Dense(3), the last Dense
    torch.testing.assert_close(penultimate_features(model, x), reference)


def test_penultimate_features_of_plain_torch_modules_come_from_the_last_linear_layer():
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.Softmax(-1)
    )
    x = torch.randn(9, 1, 6, 6)
    with torch.no_grad():
        reference = network[:3](x)  # (9, 64)
    torch.testing.assert_close(penultimate_features(network, x, batch_size=2), reference)

    class TwoHeads(nn.Module):  # module order, not call order, picks the layer: `head`
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Linear(5, 7)
            self.head = nn.Linear(7, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.tanh(self.body(x)))

    network, x = TwoHeads(), torch.randn(4, 5)
    with torch.no_grad():
        reference = torch.tanh(network.body(x))
    torch.testing.assert_close(penultimate_features(network, x), reference)


def test_penultimate_features_restore_each_module_mode_and_are_ordinary_tensors():
    model = _mlp()
    model.train()
    model.layers[1].eval()  # a frozen part must stay frozen, the rest in training mode
    features = penultimate_features(model, torch.randn(3, 4, 5))
    assert [layer.training for layer in model.layers] == [True, False, True, True]
    assert model.training
    assert not torch.is_inference(features)
    assert features.dtype == torch.float32 and features.device.type == "cpu"


def test_penultimate_features_of_an_unbuilt_model_leave_weights_trainable():
    torch.manual_seed(0)
    model = Sequential([layers.Dense(8, activation="relu"), layers.Dense(2)])  # lazy shapes
    x = torch.randn(5, 3)
    assert penultimate_features(model, x).shape == (5, 8)
    model(x).sum().backward()  # weights built under inference_mode could not take gradients
    assert model.layers[0].weight.grad is not None


def test_a_module_without_linear_layers_is_a_clear_error_naming_the_fix():
    network = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    with pytest.raises(ConfigError, match="no nn.Linear or Dense layer.*callable") as error:
        penultimate_features(network, torch.randn(2, 1, 5, 5))
    assert isinstance(error.value, EmberError)


def test_pca_embedding_matches_sklearn_and_svd_up_to_sign():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])
    points, kept = embed(torch.from_numpy(features), "pca")
    np.testing.assert_array_equal(kept, np.arange(50))
    expected = PCA(n_components=2, random_state=0).fit_transform(features)
    np.testing.assert_allclose(points, expected, atol=1e-5, rtol=1e-5)
    centred = features - features.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    by_svd = u[:, :2] * s[:2]  # (N, 2): scores on the top two principal axes
    signs = np.sign((points * by_svd).sum(0))  # each axis may be flipped
    np.testing.assert_allclose(points * signs, by_svd, atol=1e-5, rtol=1e-5)


def test_embed_subsamples_deterministically_and_pads_single_feature_data():
    features = torch.randn(100, 3)
    points, kept = embed(features, "pca", seed=1, max_points=30)
    again, kept_again = embed(features, "pca", seed=1, max_points=30)
    assert points.shape == (30, 2) and len(set(kept.tolist())) == 30
    assert np.all(np.diff(kept) > 0)  # in data order
    np.testing.assert_array_equal(kept, kept_again)
    np.testing.assert_array_equal(points, again)
    one_feature, _ = embed(torch.arange(5.0).unsqueeze(1), "pca")
    np.testing.assert_allclose(np.abs(one_feature[:, 0]), [2, 1, 0, 1, 2], atol=1e-6)
    np.testing.assert_array_equal(one_feature[:, 1], 0)


def test_tsne_is_deterministic_for_a_seed():
    torch.manual_seed(0)
    features = torch.cat([torch.randn(15, 8), torch.randn(15, 8) + 6])  # two blobs
    first, kept = embed(features, "tsne", seed=3)
    second, _ = embed(features, "tsne", seed=3)
    assert first.shape == (30, 2) and len(kept) == 30
    np.testing.assert_array_equal(first, second)
    # the blobs stay apart: each point's nearest neighbour is in its own blob
    distances = np.linalg.norm(first[:, None] - first[None], axis=-1) + np.eye(30) * 1e9
    nearest = distances.argmin(1)
    assert np.all((nearest < 15) == (np.arange(30) < 15))


def test_bad_features_labels_and_methods_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="NaN or infinite"):
        embed(torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]))
    with pytest.raises(ConfigError, match="method='umap'"):
        embed(torch.randn(5, 2), "umap")
    with pytest.raises(DataError, match=r"labels must lie in \[0, 2\)"):
        plot_feature_map([[0, 0], [1, 1]], [0, 2], ["a", "b"], tmp_path / "m.png", "t")
    with pytest.raises(DataError, match="expected 2 labels"):
        plot_feature_map([[0, 0], [1, 1]], [0], ["a", "b"], tmp_path / "m.png", "t")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_feature_map_writes_both_pngs_coloured_by_class(tmp_path):
    model = _mlp()
    x, labels = torch.randn(60, 4, 5), torch.arange(60) % 3
    paths = feature_map(model, x, labels, ["cat", "dog", "fish"], tmp_path)
    assert [path.name for path in paths] == ["feature-map-pca.png", "feature-map-tsne.png"]
    for path in paths:
        with Image.open(path) as image:
            image.verify()  # a complete, valid PNG
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (800, 600)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]  # no temp files


def test_feature_map_of_codes_from_a_callable_and_without_labels(tmp_path):
    encoder = nn.Linear(6, 3)
    encoder.train()
    paths = feature_map(encoder.forward, torch.randn(40, 6), None, None, tmp_path, ["pca"])
    assert [path.name for path in paths] == ["feature-map-pca.png"]
    assert encoder.training  # the bound method's module is put back in training mode
    with Image.open(paths[0]) as image:
        assert image.format == "PNG"
    figure = plot_feature_map(np.zeros((4, 2)), [0, 1, 1, 0], ["a", "b"], tmp_path / "l.png", "t")
    legend = figure.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["a", "b"]
