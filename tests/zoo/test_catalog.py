"""The catalog: names, descriptions, argument checks, data formats, timm models, and a zoo model
trained inside ember's Keras-style Sequential."""

import dataclasses
import importlib.util
import math
import pickle

import pytest
import torch

from ember.errors import ConfigError, ShapeError, UnknownNameError
from ember.models import Sequential
from ember.zoo import create, describe_model, list_models
from ember.zoo.catalog import entries, entry
from ember.zoo.resnet import SmallResNet

REQUIRED = {
    "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "mobilenet_v2",
    "googlenet", "vit_b_16", "resnet18_small_input", "resnet34_small_input",
    "resnet50_small_input", "vgg11_small_input", "vgg16_small_input", "vgg16_bn_small_input",
    "mobilenet_v2_small_input", "googlenet_small_input", "vit_tiny_28", "lenet5", "small_resnet",
}  # fmt: skip


def test_list_models_is_sorted_and_holds_every_required_model():
    names = list_models()
    assert names == sorted(names)
    assert set(names) == REQUIRED
    assert list_models("resnet*") == [
        "resnet18",
        "resnet18_small_input",
        "resnet34",
        "resnet34_small_input",
        "resnet50",
        "resnet50_small_input",
    ]
    assert list_models("*_small_input") == sorted(n for n in REQUIRED if n.endswith("_small_input"))


def test_entries_describe_each_model_in_one_line():
    for model_entry in entries():
        assert describe_model(model_entry.name) == model_entry.description
        assert model_entry.description and "\n" not in model_entry.description
        assert model_entry.test_image_size <= model_entry.image_size
    resnet = entry("resnet18")
    assert (resnet.family, resnet.image_size, resnet.test_image_size) == ("resnet", 224, 32)
    assert entry("vgg16_small_input").image_size == 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        resnet.image_size = 32


def test_an_unknown_name_lists_close_names_and_the_fix():
    with pytest.raises(UnknownNameError, match=r"unknown vision model 'resnet19'.*'resnet18'.*Fix"):
        create("resnet19")
    with pytest.raises(UnknownNameError, match="'vgg16'"):
        describe_model("vgg61")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"num_classes": 0}, "expected a positive integer, received num_classes=0"),
        ({"in_channels": 1.5}, "expected a positive integer, received in_channels=1.5"),
        ({"data_format": "NHWC"}, r"expected data_format in \('channels_first', 'channels_last'\)"),
        ({"pretrained": 3}, "received pretrained=3"),
        ({"pretrained": "imagenet"}, "has no weights named 'imagenet'.*Fix"),
        ({"depth": 5}, r"create\('lenet5'\) received an argument .*depth.*Fix"),
    ],
)
def test_bad_arguments_are_rejected_before_building(arguments, message):
    with pytest.raises(ConfigError, match=message):
        create("lenet5", **arguments)


@pytest.mark.parametrize("name", ["lenet5", "mobilenet_v2_small_input"])
def test_channels_last_models_equal_channels_first_ones_on_permuted_images(name):
    torch.manual_seed(0)
    first = create(name, num_classes=4, in_channels=1).eval()
    last = create(name, num_classes=4, in_channels=1, data_format="channels_last").eval()
    assert list(last.state_dict()) == list(first.state_dict())  # same module, same keys
    last.load_state_dict(first.state_dict())
    images = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(last(images.permute(0, 2, 3, 1)), first(images))
    assert (first.data_format, last.data_format) == ("channels_first", "channels_last")
    copied = pickle.loads(pickle.dumps(last))  # the layout hook travels with the model
    with torch.no_grad():
        torch.testing.assert_close(copied(images.permute(0, 2, 3, 1)), first(images))
    with pytest.raises(ShapeError, match=r"expects \(N, H, W, 1\).*Fix"):
        last(images)


def test_small_resnet_takes_either_layout_although_it_natively_takes_channels_last():
    torch.manual_seed(0)
    first = create("small_resnet", num_classes=10, in_channels=1).eval()
    last = create("small_resnet", num_classes=10, in_channels=1, data_format="channels_last")
    assert isinstance(first, SmallResNet)
    last.load_state_dict(first.state_dict())
    images = torch.rand(2, 28, 28, 1)  # (N, H, W, C)
    with torch.no_grad():
        torch.testing.assert_close(first(images.permute(0, 3, 1, 2)), last.eval()(images))
    with pytest.raises(ShapeError, match=r"expects \(N, 1, H, W\)"):
        first(images)


def test_timm_models_are_built_by_timm_with_ember_arguments():
    torch.manual_seed(0)
    model = create("timm/resnet18", num_classes=3, in_channels=1, data_format="channels_last")
    assert type(model).__module__.startswith("timm.")
    assert model(torch.rand(2, 32, 32, 1)).shape == (2, 3)
    assert "timm/resnet18" in list_models("timm/resnet1*")
    assert describe_model("timm/resnet18") == "timm's resnet18 (timm.create_model)"


def test_an_unknown_timm_name_lists_timm_close_names():
    with pytest.raises(UnknownNameError, match=r"unknown timm model 'resnet19'.*'resnet18'"):
        create("timm/resnet19")


def test_without_timm_the_error_says_how_to_install_it(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "timm" else find_spec(name, *a),
    )
    with pytest.raises(ConfigError, match="pip install timm"):
        create("timm/resnet18")


def test_a_zoo_model_trains_as_the_only_layer_of_a_keras_style_sequential():
    torch.manual_seed(0)
    net = create("lenet5", num_classes=10, in_channels=1, data_format="channels_last")
    model = Sequential([net])
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        from_logits=True,
        device="cpu",
    )
    images, labels = torch.rand(64, 28, 28, 1), torch.randint(0, 10, (64,))  # ember's layout
    history = model.fit(images, labels, epochs=1, batch_size=16, verbose=0)
    loss = history.history["loss"][0]
    assert math.isfinite(loss) and 0 < loss < 10
    assert model.predict(images[:4], verbose=0).shape == (4, 10)
