"""Pretrained weights: strict round trips through safetensors and torch.save, new heads and grey
inputs from RGB files, clear errors for mismatched and missing files, torchvision's cache
(never downloaded) and HED's VGG16 convolutions."""

import copy
from pathlib import Path

import pytest
import torch

from ember.errors import ConfigError, WeightsMismatchError
from ember.saving import save_tensors
from ember.vision_imports import import_torchvision
from ember.zoo import create, describe_model, load_pretrained
from ember.zoo.checkpoints import read_state_dict, torchvision_weights_file
from ember.zoo.hed_vgg16 import hed_weights_path, read_hed_vgg16
from ember.zoo.pretrained import PretrainedNotFoundError
from ember.zoo.resnet import SmallResNet


def _assert_same_state(model, reference):
    state, expected = model.state_dict(), reference.state_dict()
    assert list(state) == list(expected)
    for key in expected:
        assert torch.equal(state[key], expected[key]), key


@pytest.mark.parametrize("suffix", [".safetensors", ".pt", ".pth", ".bin"])
def test_weights_round_trip_strictly_through_each_file_format(tmp_path, suffix):
    torch.manual_seed(0)
    source = create("mobilenet_v2_small_input", num_classes=10)
    source.features[0][1].running_mean.uniform_()  # buffers travel too
    path = tmp_path / f"weights{suffix}"
    if suffix == ".safetensors":
        save_tensors(source.state_dict(), path)
    else:
        torch.save(source.state_dict(), path)
    loaded = create("mobilenet_v2_small_input", num_classes=10, pretrained=path)
    _assert_same_state(loaded, source)


def test_a_file_that_does_not_fit_lists_missing_unexpected_and_mismatched_keys(tmp_path):
    state = create("lenet5", num_classes=10, in_channels=1).state_dict()
    del state["features.0.bias"]
    state["features.9.weight"] = torch.zeros(2)
    state["classifier.2.weight"] = torch.zeros(80, 120)  # 84 expected
    path = tmp_path / "lenet.pt"
    torch.save(state, path)
    with pytest.raises(WeightsMismatchError) as error:
        create("lenet5", num_classes=10, in_channels=1, pretrained=path)
    message = str(error.value)
    assert str(path) in message
    assert "missing from the file: features.0.bias" in message
    assert "not in the model: features.9.weight" in message
    assert "classifier.2.weight: model (84, 120) vs file (80, 120)" in message


def test_a_missing_file_names_the_path_and_the_folder_looked_in(tmp_path):
    path = tmp_path / "nowhere.safetensors"
    with pytest.raises(PretrainedNotFoundError, match=f"no weights file at {path}.*{tmp_path}"):
        create("lenet5", pretrained=path)


def test_a_pickled_object_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(create("lenet5", num_classes=10), path)  # a whole module, not a state dict
    with pytest.raises(WeightsMismatchError, match="not a readable state dict.*Fix"):
        read_state_dict(path)
    with pytest.raises(ConfigError, match=r"ending in .safetensors, .pt, .pth or .bin"):
        read_state_dict(Path(__file__))


def test_another_number_of_classes_loads_the_body_and_builds_a_new_head(tmp_path):
    torch.manual_seed(0)
    source = create("lenet5", num_classes=1000, in_channels=1)
    path = tmp_path / "lenet.safetensors"
    save_tensors(source.state_dict(), path)
    model = create("lenet5", num_classes=10, in_channels=1, pretrained=path)
    assert model.classifier[4].weight.shape == (10, 84)
    assert torch.equal(model.classifier[2].weight, source.classifier[2].weight)
    assert torch.equal(model.features[0].weight, source.features[0].weight)


def test_a_grey_model_from_rgb_weights_equals_the_rgb_model_on_repeated_images(tmp_path):
    torch.manual_seed(0)
    rgb = create("resnet18_small_input", num_classes=5).eval()
    path = tmp_path / "rgb.pt"
    torch.save(rgb.state_dict(), path)
    grey = create("resnet18_small_input", num_classes=5, in_channels=1, pretrained=path).eval()
    assert grey.conv1.weight.shape == (64, 1, 3, 3)
    images = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(grey(images), rgb(images.expand(-1, 3, -1, -1)))


def test_load_pretrained_leaves_the_model_unchanged_when_the_file_does_not_fit():
    model = SmallResNet(num_classes=3, widths=(4,))
    before = copy.deepcopy(model.state_dict())
    state = SmallResNet(num_classes=7, in_channels=3, widths=(8,)).state_dict()
    with pytest.raises(WeightsMismatchError, match="different shapes"):
        load_pretrained(model, state)
    assert model.head.out_features == 3 and model.in_channels == 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_timm_models_load_weights_files_through_the_same_strict_check(tmp_path):
    torch.manual_seed(0)
    source = create("timm/resnet18", num_classes=3)
    path = tmp_path / "timm_resnet18.safetensors"
    save_tensors(source.state_dict(), path)
    _assert_same_state(create("timm/resnet18", num_classes=3, pretrained=path), source)
    with pytest.raises(WeightsMismatchError, match=r"missing from the file: conv1\.0\.weight"):
        create("timm/resnet18d", num_classes=3, pretrained=path)  # a deep stem: other keys


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch hub cache, as on a machine that never downloaded anything."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert Path(torch.hub.get_dir()) == tmp_path / "hub"
    return tmp_path / "hub" / "checkpoints"


def test_pretrained_true_without_the_cached_file_names_file_folder_and_url(torch_home):
    url = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    with pytest.raises(PretrainedNotFoundError) as error:
        create("resnet18", pretrained=True)
    message = str(error.value)
    for part in ("resnet18-f37072fd.pth", str(torch_home), url, "Fix"):
        assert part in message
    assert not torch_home.exists()  # nothing was downloaded


def test_pretrained_true_loads_the_file_torchvision_cached(torch_home):
    torch.manual_seed(0)
    source = create("resnet18")
    path, _ = torchvision_weights_file("resnet18")
    assert path.parent == torch_home
    torch_home.mkdir(parents=True)
    torch.save(source.state_dict(), path)
    model = create("resnet18", num_classes=10, pretrained=True)
    assert torch.equal(model.layer4[1].conv2.weight, source.layer4[1].conv2.weight)
    assert model.fc.out_features == 10


def test_pretrained_true_is_refused_where_no_standard_weights_exist():
    with pytest.raises(ConfigError, match="'vgg16_small_input' has no standard.*pretrained='hed'"):
        create("vgg16_small_input", pretrained=True)


def test_torchvision_googlenet_weights_load_without_their_auxiliary_heads(torch_home):
    # A checkpoint as torchvision publishes it: with the auxiliary heads the catalog leaves out.
    source = import_torchvision().models.googlenet(aux_logits=True, init_weights=False)
    assert any(key.startswith("aux1.") for key in source.state_dict())
    path, _ = torchvision_weights_file("googlenet")
    torch_home.mkdir(parents=True)
    torch.save(source.state_dict(), path)
    model = create("googlenet", pretrained=True)
    assert model.aux1 is None and model.transform_input  # as torchvision builds it
    assert torch.equal(model.fc.weight, source.fc.weight)


def _hed_installed() -> bool:
    try:
        hed_weights_path()
    except PretrainedNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _hed_installed(), reason="no HED weights: bash scripts/install_data.sh")
def test_pretrained_hed_fills_the_vgg16_convolutions_then_sums_them_for_grey_images():
    model = create("vgg16_small_input", num_classes=2, in_channels=1, pretrained="hed")
    state = read_hed_vgg16()
    assert torch.equal(model.features[28].weight, state["28.weight"])
    torch.testing.assert_close(model.features[0].weight, state["0.weight"].sum(1, keepdim=True))
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 2)


def test_only_the_vgg16_entries_offer_hed_weights():
    with pytest.raises(ConfigError, match="'resnet18' has no weights named 'hed'"):
        create("resnet18", pretrained="hed")
    assert "pretrained='hed'" in describe_model("vgg16_small_input")
