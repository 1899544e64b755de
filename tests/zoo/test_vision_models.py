"""Every catalog model runs forward and backward with finite values; published parameter counts;
the small-input stems keep small images; input-channel adaptation is exact."""

import copy

import pytest
import torch

from ember.errors import ShapeError
from ember.zoo import adapt_input_channels, create
from ember.zoo.catalog import entries, entry
from ember.zoo.input_adapters import adapt_kernel

ENTRIES = entries()
# The counts torchvision and the papers publish, at 1000 classes and 3x224x224 inputs.
PUBLISHED = {
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "vgg16": 138_357_544,
    "mobilenet_v2": 3_504_872,
}


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("model_entry", ENTRIES, ids=lambda e: e.name)
def test_every_model_gives_finite_logits_and_gradients(model_entry):
    torch.manual_seed(0)
    size = model_entry.test_image_size
    # A ViT's position embeddings are built for one image size: build it for the test's.
    kwargs = {"image_size": size} if model_entry.family == "vit" else {}
    model = create(model_entry.name, num_classes=3, **kwargs)  # train mode: batch norm batch stats
    logits = model(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 3)
    assert torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_equal_the_published_ones(name):
    with torch.device("meta"):  # shapes only: no memory, no init
        model = create(name)
    assert _count(model) == PUBLISHED[name] == entry(name).parameters


@pytest.mark.parametrize(
    "model_entry", [e for e in ENTRIES if e.parameters is not None], ids=lambda e: e.name
)
def test_every_recorded_parameter_count_is_the_built_models(model_entry):
    with torch.device("meta"):
        model = create(model_entry.name)
    assert _count(model) == model_entry.parameters


def _output_shape(model, module, images):
    shapes = []
    handle = module.register_forward_hook(lambda m, args, out: shapes.append(tuple(out.shape)))
    with torch.no_grad():
        model.eval()(images)
    handle.remove()
    return shapes[0]


def test_small_input_stems_keep_the_whole_image_for_the_first_stage():
    images = torch.rand(2, 3, 28, 28)
    resnet = create("resnet18_small_input", num_classes=10)
    assert _output_shape(resnet, resnet.layer1, images) == (2, 64, 28, 28)
    assert _output_shape(resnet, resnet.layer4, images) == (2, 512, 4, 4)
    googlenet = create("googlenet_small_input", num_classes=10)
    assert _output_shape(googlenet, googlenet.inception3a, images) == (2, 256, 28, 28)
    mobilenet = create("mobilenet_v2_small_input", num_classes=10)
    assert _output_shape(mobilenet, mobilenet.features[3], images) == (2, 24, 28, 28)
    assert _output_shape(mobilenet, mobilenet.features, torch.rand(2, 3, 32, 32)) == (2, 1280, 4, 4)


def test_small_input_vgg_ends_at_one_pixel_on_28x28_and_classifies_512_features():
    vgg = create("vgg11_small_input", num_classes=10)
    assert _output_shape(vgg, vgg.features, torch.rand(2, 3, 28, 28)) == (2, 512, 1, 1)
    assert _output_shape(vgg, vgg.features, torch.rand(2, 3, 32, 32)) == (2, 512, 2, 2)
    assert vgg.classifier[-1].in_features == 512 and vgg.classifier[-1].out_features == 10


def test_lenet5_and_vit_tiny_accept_32x32_images_when_built_for_them():
    torch.manual_seed(0)
    lenet = create("lenet5", num_classes=10, in_channels=1, image_size=32, activation="tanh")
    assert lenet(torch.rand(2, 1, 32, 32)).shape == (2, 10)
    vit = create("vit_tiny_28", num_classes=10, in_channels=1, image_size=32)
    assert vit(torch.rand(2, 1, 32, 32)).shape == (2, 10)
    assert vit.seq_length == 8 * 8 + 1  # 4x4 patches and the class token


@pytest.mark.parametrize("name", ["resnet18_small_input", "vit_tiny_28"])
def test_a_grey_image_gives_what_the_rgb_network_gives_on_it_repeated(name):
    torch.manual_seed(0)
    rgb = create(name, num_classes=5).eval()
    grey = adapt_input_channels(copy.deepcopy(rgb), 1)
    images = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        expected = rgb(images.expand(-1, 3, -1, -1))
        torch.testing.assert_close(grey(images), expected, atol=1e-5, rtol=1e-4)


def test_more_channels_repeat_the_kernel_scaled_so_a_repeated_image_gives_the_same_output():
    torch.manual_seed(0)
    rgb = create("lenet5", num_classes=5, in_channels=3).eval()
    six = adapt_input_channels(copy.deepcopy(rgb), 6)
    assert six.features[0].weight.shape == (6, 6, 5, 5) and six.in_channels == 6
    images = torch.rand(2, 3, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(six(images.repeat(1, 2, 1, 1)), rgb(images))
    kernel = torch.randn(4, 3, 3, 3)
    torch.testing.assert_close(adapt_kernel(kernel, 2), kernel[:, :2] * 1.5)


@pytest.mark.parametrize(
    ("data_format", "shape", "fix"),
    [
        ("channels_first", (2, 1, 32, 32), "in_channels=1"),
        ("channels_last", (2, 28, 28, 1), "in_channels=1"),
        ("channels_last", (2, 3, 28, 28), "data_format='channels_first'"),
        ("channels_first", (2, 32, 32, 4), "data_format='channels_last'"),
        ("channels_first", (2, 4, 32, 32), "alpha"),
        ("channels_first", (3, 32, 32), "x[None]"),
    ],
)
def test_images_that_do_not_fit_a_pretrained_rgb_backbone_say_how_to_convert(
    data_format, shape, fix
):
    model = create("resnet18_small_input", num_classes=3, data_format=data_format)
    with pytest.raises(ShapeError, match="3-channel images") as raised:
        model(torch.rand(*shape))
    assert fix in str(raised.value)
