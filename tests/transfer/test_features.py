"""extract_features: a backbone's eval-mode outputs over a data set, batched, on the CPU."""

import numpy as np
import pytest
import torch
from torch import nn

import ember
from ember import transfer
from ember.vision_imports import import_torchvision


def _backbone() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5))


def test_features_are_the_eval_mode_outputs_flattened_from_dim_1():
    backbone = _backbone().train()
    x = torch.randn(10, 3, 6, 6)
    features = transfer.extract_features(backbone, x, batch_size=4, device="cpu")
    backbone.eval()
    with torch.no_grad():
        expected = backbone(x).flatten(1)  # the reference: one eval-mode pass, no dropout
    assert features.shape == (10, 4 * 4 * 4) and features.device.type == "cpu"
    torch.testing.assert_close(features, expected)
    assert not features.requires_grad


def test_the_backbones_mode_is_restored_and_numpy_or_labelled_data_work():
    backbone = _backbone().train()
    x = np.random.default_rng(0).normal(size=(5, 3, 6, 6)).astype("float32")
    from_numpy = transfer.extract_features(backbone, x, device="cpu")
    from_pairs = transfer.extract_features(backbone, (x, np.zeros(5, "int64")), device="cpu")
    assert backbone.training
    torch.testing.assert_close(from_numpy, from_pairs)
    with pytest.raises(ember.ConfigError, match="received batch_size=0"):
        transfer.extract_features(backbone, x, batch_size=0, device="cpu")


def test_a_resnet_without_its_head_gives_its_pooled_features():
    torch.manual_seed(0)
    resnet = import_torchvision().models.resnet18(num_classes=3).eval()
    x = torch.randn(3, 3, 32, 32)
    features = transfer.extract_features(transfer.without_head(resnet), x, device="cpu")
    assert features.shape == (3, 512)
    with torch.no_grad():
        torch.testing.assert_close(resnet.fc(features), resnet(x))
