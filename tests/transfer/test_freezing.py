"""freeze / unfreeze, Keras' ``trainable``, and the batch-norm rule for frozen layers."""

import copy

import pytest
import torch
from torch import nn

import ember
from ember import layers, transfer
from ember.vision_imports import import_torchvision


def _resnet() -> nn.Module:
    torch.manual_seed(0)
    return import_torchvision().models.resnet18(num_classes=4)


def _conv_net() -> nn.Sequential:
    """conv -> batch norm -> pool -> linear head: a pretrained network in miniature."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 2),
    )
    with torch.no_grad():  # statistics as a pretrained network has them, not the defaults
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    return net


def _images(n: int = 8) -> torch.Tensor:
    return torch.randn(n, 3, 10, 10, generator=torch.Generator().manual_seed(3))


def _trainable(model: nn.Module) -> list[str]:
    return [name for name, p in model.named_parameters() if p.requires_grad]


def test_freeze_up_to_a_layer_freezes_the_weights_registered_up_to_its_end():
    net = _resnet()
    names = [name for name, _ in net.named_parameters()]
    # The reference: named_parameters() order, cut after the last weight inside layer3.
    last = max(i for i, name in enumerate(names) if name.startswith("layer3."))
    assert transfer.freeze(net, up_to="layer3") == names[: last + 1]
    assert _trainable(net) == names[last + 1 :]
    assert _trainable(net)[0].startswith("layer4.") and _trainable(net)[-1] == "fc.bias"


def test_freeze_takes_a_nested_name_and_everything_by_default():
    net = nn.Sequential()
    net.features = nn.Sequential(*[nn.Linear(2, 2) for _ in range(4)])
    net.classifier = nn.Linear(2, 1)
    assert transfer.freeze(net, up_to="features.2") == [
        f"features.{i}.{kind}" for i in range(3) for kind in ("weight", "bias")
    ]
    assert _trainable(net) == [
        "features.3.weight",
        "features.3.bias",
        "classifier.weight",
        "classifier.bias",
    ]
    assert len(transfer.freeze(net)) == 10 and _trainable(net) == []


def test_unfreeze_starting_at_a_layer_unfreezes_it_and_everything_after():
    net = _resnet()
    transfer.freeze(net)
    unfrozen = transfer.unfreeze(net, starting_at="layer4")
    expected = [n for n, _ in net.named_parameters() if n.startswith(("layer4.", "fc."))]
    assert unfrozen == expected and _trainable(net) == expected
    transfer.unfreeze(net)
    assert _trainable(net) == [name for name, _ in net.named_parameters()]


def test_an_unknown_layer_name_lists_the_top_level_children_and_close_matches():
    with pytest.raises(ember.ConfigError) as error:
        transfer.freeze(_resnet(), up_to="layer5")
    message = str(error.value)
    assert "no submodule named 'layer5'" in message
    assert "['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3'" in message
    assert "Close matches: ['layer4', 'layer3', 'layer2']" in message and "Fix:" in message
    with pytest.raises(ember.ConfigError, match="no submodule named 'layer'"):
        transfer.unfreeze(_resnet(), starting_at="layer")


def test_a_frozen_batchnorm_layer_uses_and_keeps_its_running_statistics_in_training():
    net = _conv_net()
    reference = copy.deepcopy(net).eval()  # PyTorch's inference mode: the expected outputs
    transfer.freeze(net, up_to="1")
    statistics = [b.clone() for b in net[1].buffers()]
    net.train()  # must not undo the freeze (Keras' rule)
    sgd = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    x = _images()
    out = net(x)
    torch.testing.assert_close(out, reference(x), rtol=0, atol=0)
    out.square().mean().backward()
    sgd.step()
    assert all(torch.equal(a, b) for a, b in zip(statistics, net[1].buffers()))
    assert net[0].weight.grad is None and net[1].weight.grad is None
    assert not torch.equal(net[5].weight, reference[5].weight)  # the head did train


def test_batchnorm_train_keeps_batchnorm_layers_trainable_and_updating():
    net = _conv_net()
    start = net[1].running_mean.clone()
    assert transfer.freeze(net, batchnorm="train") == ["0.weight", "0.bias", "5.weight", "5.bias"]
    assert _trainable(net) == ["1.weight", "1.bias"]
    x = _images()
    net.train()(x)
    # The reference: torch's update, running = 0.9 * running + 0.1 * batch mean.
    batch_mean = net[0](x).mean(dim=(0, 2, 3))
    torch.testing.assert_close(net[1].running_mean, 0.9 * start + 0.1 * batch_mean)


def test_unfreezing_a_batchnorm_layer_lets_it_train_again():
    net = _conv_net()
    transfer.freeze(net)
    net.train()
    net(_images())
    assert not net[1].training
    transfer.unfreeze(net)
    assert net[1].training  # back to the model's mode at once
    start = net[1].running_mean.clone()
    net(_images())
    assert not torch.equal(net[1].running_mean, start)


def test_keras_trainable_false_on_a_dense_layer_freezes_it_even_before_it_is_built():
    dense = layers.Dense(3)
    assert dense.trainable
    dense.trainable = False
    assert not dense.trainable
    dense(torch.ones(2, 4))  # builds the weights: they are created frozen
    assert not dense.weight.requires_grad and not dense.bias.requires_grad
    dense.trainable = True
    assert dense.weight.requires_grad and dense.trainable


def test_keras_trainable_on_a_sequential_freezes_its_layers_and_the_summary_counts_them():
    model = ember.Sequential(
        [
            layers.Dense(8, activation="relu", input_shape=(4,)),
            layers.BatchNormalization(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    assert model.trainable  # the head still trains
    text = model.summary(print_fn=lambda _: None)
    # Keras' counts: 4*8+8 frozen + BN's 8+8 weights and 8+8 statistics; the head 8*2+2.
    assert "Trainable params: 18 " in text and "Non-trainable params: 72 " in text
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", device="cpu")
    frozen = [p.clone() for p in model.layers[0].parameters()]
    statistics = model.layers[1].running_mean.clone()
    head = model.layers[2].weight.clone()
    x, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(torch.equal(a, b) for a, b in zip(frozen, model.layers[0].parameters()))
    assert torch.equal(model.layers[1].running_mean, statistics)  # frozen BN: inference mode
    assert not torch.equal(model.layers[2].weight, head)
    model.trainable = False
    assert not model.trainable and _trainable(model) == []
    model.trainable = True
    assert len(_trainable(model)) == 6 and model.layers[1].training == model.training


def test_a_model_frozen_before_it_is_built_builds_frozen_weights():
    model = ember.Sequential([layers.Dense(3), layers.Dense(2)])
    model.trainable = False
    assert not model.trainable
    model(torch.ones(1, 5))
    assert _trainable(model) == []
