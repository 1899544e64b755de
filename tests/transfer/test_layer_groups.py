"""Layer groups and discriminative learning rates, down to the optimizer's param groups."""

import pytest
import torch
from torch import nn

import ember
from ember import transfer
from ember.vision_imports import import_torchvision

RESNET_GROUPS = ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]


def _resnet() -> nn.Module:
    torch.manual_seed(0)
    return import_torchvision().models.resnet18(num_classes=3)


def test_layer_groups_are_the_top_level_children_with_weights():
    assert [name for name, _ in transfer.layer_groups(_resnet())] == RESNET_GROUPS


def test_layer_groups_look_through_wrappers():
    model = ember.Model(_resnet())
    assert [n for n, _ in transfer.layer_groups(model)] == [f"module.{n}" for n in RESNET_GROUPS]
    sequential = ember.Sequential([ember.layers.Dense(4, input_shape=(2,)), ember.layers.Dense(1)])
    assert [n for n, _ in transfer.layer_groups(sequential)] == ["layers.0", "layers.1"]


def test_discriminative_learning_rates_space_the_groups_geometrically():
    net = _resnet()
    scales = transfer.discriminative_learning_rates(net, ratio=100.0)
    # fastai's even_mults(1/100, 1, 7): the closed form 100 ** ((i - 6) / 6).
    expected = [100.0 ** ((i - 6) / 6) for i in range(7)]
    assert list(scales) == RESNET_GROUPS
    assert list(scales.values()) == pytest.approx(expected, rel=1e-12)
    assert scales["conv1"] == pytest.approx(0.01) and scales["fc"] == 1.0
    for name, module in transfer.layer_groups(net):
        assert all(p.lr_scale == scales[name] for p in module.parameters())


def test_weights_outside_the_named_groups_take_the_next_groups_scale():
    net = _resnet()
    scales = transfer.discriminative_learning_rates(net, ratio=10.0, groups=["layer4", "fc"])
    assert scales == {"layer4": pytest.approx(0.1), "fc": 1.0}
    assert net.conv1.weight.lr_scale == scales["layer4"]  # registered before layer4
    with pytest.raises(ember.ConfigError, match="no submodule named 'layer9'"):
        transfer.discriminative_learning_rates(net, groups=["layer9"])


def test_the_engine_gives_each_group_its_scaled_learning_rate_and_clearing_undoes_it():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3),
    )  # fmt: skip
    scales = transfer.discriminative_learning_rates(net, ratio=100.0)
    task = ember.Supervised(net, "sparse_categorical_crossentropy", from_logits=True)
    trainer = ember.Trainer(task, ember.optimizers.Adam(0.02), device="cpu")
    x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 3, (8,))
    trainer.fit((x, y), epochs=1, batch_size=4, verbose=0)
    groups = trainer.optimizer.param_groups
    assert [g["lr"] for g in groups] == pytest.approx([0.02 * s for s in scales.values()])
    by_group = [{id(p) for p in g["params"]} for g in groups]
    assert by_group == [{id(p) for p in m.parameters()} for _, m in transfer.layer_groups(net)]
    assert transfer.clear_learning_rate_scales(net) == len(list(net.parameters()))
    trainer.fit((x, y), epochs=1, batch_size=4, verbose=0)  # scales changed: rebuilt, one group
    assert len(trainer.optimizer.param_groups) == 1
