"""PretrainedTextClassifier: frozen bottom, cached features equal to reading ids, only the top trains."""

from __future__ import annotations

import pytest
import torch

from ember.errors import ConfigError, ShapeError
from ember.zoo.bert import BertConfig, BertEncoder, mean_pool
from ember.zoo.text_classifier import PretrainedTextClassifier


def tiny_encoder() -> BertEncoder:
    torch.manual_seed(0)
    config = BertConfig(
        vocabulary_size=40,
        hidden_dim=16,
        num_layers=3,
        num_heads=2,
        intermediate_dim=32,
        max_positions=12,
        dropout=0.1,
    )
    return BertEncoder(config)


def ids() -> torch.Tensor:
    return torch.tensor([[5, 6, 7, 8, 0, 0], [9, 10, 0, 0, 0, 0], [11, 12, 13, 14, 15, 16]])


def test_cached_features_give_the_logits_of_the_whole_encoder():
    model = PretrainedTextClassifier(tiny_encoder(), 3, trainable_layers=1).eval()
    # The reference: the plain encoder over all its layers, mean-pooled, then the classifier.
    with torch.no_grad():
        hidden = model.encoder(ids())
        expected = model.classifier(mean_pool(hidden, ids() != 0))
        torch.testing.assert_close(model(ids()), expected)
        torch.testing.assert_close(model(model.frozen_features(ids(), batch_size=2)), expected)


def test_frozen_features_trim_padding_per_batch_and_mark_real_tokens():
    model = PretrainedTextClassifier(tiny_encoder(), 2, trainable_layers=2)
    features = model.frozen_features(ids(), batch_size=1)
    assert features.shape == (3, 6, 17)
    torch.testing.assert_close(features[..., -1], (ids() != 0).float())
    assert features[1, 2:, :-1].abs().sum() == 0  # padding never computed
    assert model.training  # the mode is restored


def test_only_the_top_layers_and_the_classifier_receive_gradients():
    model = PretrainedTextClassifier(tiny_encoder(), 2, trainable_layers=1)
    model.train()
    assert not model.encoder.layers[0].training and model.encoder.layers[2].training
    loss = model(model.frozen_features(ids())).logsumexp(-1).sum()
    loss.backward()
    top = {id(p) for p in model.encoder.layers[2].parameters()}
    top |= {id(p) for p in model.classifier.parameters()}
    for parameter in model.parameters():
        if id(parameter) in top:
            assert parameter.grad is not None and parameter.requires_grad
        else:
            assert parameter.grad is None and not parameter.requires_grad


def test_feature_extraction_trains_the_classifier_alone():
    model = PretrainedTextClassifier(tiny_encoder(), 2, trainable_layers=0)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["classifier.weight", "classifier.bias"]
    assert model.top_layers() == []


def test_bad_arguments_and_inputs():
    with pytest.raises(ConfigError, match="trainable_layers between 0 and 3"):
        PretrainedTextClassifier(tiny_encoder(), 2, trainable_layers=4)
    with pytest.raises(ConfigError, match="num_classes of at least 2"):
        PretrainedTextClassifier(tiny_encoder(), 1)
    model = PretrainedTextClassifier(tiny_encoder(), 2)
    with pytest.raises(ShapeError, match=r"cached features \(N, T, 17\)"):
        model(torch.randn(2, 6, 16))
    with pytest.raises(ShapeError, match="integer ids"):
        model.frozen_features(torch.randn(2, 6))
