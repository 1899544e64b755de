"""head_of, replace_head and without_head on torchvision, timm-style and ember models."""

import pytest
import torch
from torch import nn

import ember
from ember import layers, transfer
from ember.vision_imports import import_torchvision


def _resnet(num_classes: int = 4) -> nn.Module:
    torch.manual_seed(0)
    return import_torchvision().models.resnet18(num_classes=num_classes).eval()


class TimmStyle(nn.Module):
    """timm's API: the classifier is what get_classifier() returns, wherever it sits."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 3)  # the classifier, registered first
        self.stem = nn.Linear(4, 6)
        self.projection = nn.Linear(3, 3)  # a last Linear that is not the classifier
        self.num_features = 6

    def get_classifier(self) -> nn.Module:
        return self.fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.stem(x))


def test_head_of_finds_torchvision_heads_by_the_last_linear_layer():
    resnet = _resnet()
    assert transfer.head_of(resnet) == ("fc", resnet.fc)
    mobilenet = import_torchvision().models.mobilenet_v2(num_classes=3)
    assert transfer.head_of(mobilenet) == ("classifier.1", mobilenet.classifier[1])


def test_head_of_prefers_timms_get_classifier():
    model = TimmStyle()
    assert transfer.head_of(model) == ("fc", model.fc)


def test_a_model_without_a_linear_layer_has_no_head():
    with pytest.raises(ember.ConfigError, match="found no classifier head in Sequential.*Fix:"):
        transfer.head_of(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()))


def test_replace_head_swaps_in_a_fresh_trainable_linear_layer_in_place():
    resnet = _resnet()
    transfer.freeze(resnet)
    head = transfer.replace_head(resnet, 7)
    assert resnet.fc is head and (head.in_features, head.out_features) == (512, 7)
    assert [n for n, p in resnet.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    x = torch.randn(2, 3, 32, 32)
    # The reference: the body by hand, then the new head.
    body = resnet.avgpool(resnet.layer4(resnet.layer3(resnet.layer2(resnet.layer1(
        resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(x))))))))).flatten(1)  # fmt: skip
    torch.testing.assert_close(resnet(x), head(body))


def test_replace_head_with_dropout_puts_dropout_before_the_linear_layer():
    model = TimmStyle()
    new = transfer.replace_head(model, 5, dropout=0.25)
    assert isinstance(new[0], nn.Dropout) and new[0].p == 0.25
    assert (new[1].in_features, new[1].out_features) == (6, 5)
    assert transfer.head_of(model) == ("fc", new)  # what get_classifier() returns now
    torch.testing.assert_close(model.eval()(torch.ones(1, 4)), new[1](model.stem(torch.ones(1, 4))))


def test_replace_head_keeps_an_ember_dense_head_a_dense_with_its_activation():
    model = ember.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,)),
            layers.Dense(3, activation="softmax"),
        ]
    )
    head = transfer.replace_head(model, 5)
    assert isinstance(head, layers.Dense) and head.units == 5 and model.layers[1] is head
    x = torch.randn(6, 4)
    expected = torch.softmax(nn.functional.linear(model.layers[0](x), head.weight, head.bias), -1)
    torch.testing.assert_close(model(x), expected)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    history = model.fit(x, torch.randint(0, 5, (6,)), epochs=1, verbose=0)
    assert history.history["loss"][0] > 0
    with pytest.raises(ember.ConfigError, match="received dropout=0.5"):
        transfer.replace_head(model, 5, dropout=0.5)


def test_without_head_returns_a_copy_that_outputs_the_features():
    resnet = _resnet()
    body = transfer.without_head(resnet)
    assert isinstance(body.fc, nn.Identity) and isinstance(resnet.fc, nn.Linear)
    x = torch.randn(2, 3, 32, 32)
    features = body(x)
    assert features.shape == (2, 512)
    torch.testing.assert_close(resnet.fc(features), resnet(x))  # same weights, copied
    assert body.conv1.weight is not resnet.conv1.weight
