"""The catalog's image models: torchvision's families, their small-image variants, LeNet-5 and
ember's SmallResNet.

The ImageNet models are torchvision's own builders and classes, unchanged, so torchvision state
dicts load as they are. The ``*_small_input`` variants are those models with the stem CIFAR
papers use, which keeps a 28x28 or 32x32 image whole through the first layers instead of
shrinking it 4x (ResNet, GoogLeNet) or 32x to nothing (VGG on 28x28). torchvision is imported
when a model is built, not with this module.

Example:
    >>> import torch
    >>> from ember.zoo.catalog import create
    >>> model = create("mobilenet_v2_small_input", num_classes=10)
    >>> model(torch.rand(2, 3, 28, 28)).shape, type(model).__name__
    (torch.Size([2, 10]), 'MobileNetV2')
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import nn

from ember.vision_imports import import_torchvision
from ember.zoo.catalog import ModelEntry, register
from ember.zoo.hed_vgg16 import load_hed_vgg16
from ember.zoo.input_adapters import adapt_input_channels
from ember.zoo.lenet import LeNet5
from ember.zoo.resnet import SmallResNet

_HED_NOTE = "; pretrained='hed': HED's edge-detection convolutions"  # for two descriptions


def _torchvision(builder: str, num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """torchvision's ``builder`` with random weights, its first conv adapted to ``in_channels``."""
    model = import_torchvision().models.get_model(builder, num_classes=num_classes, **kwargs)
    return adapt_input_channels(model, in_channels)


def _googlenet(
    num_classes: int,
    in_channels: int,
    aux_logits: bool = False,
    init_weights: bool = False,
    **kwargs: Any,
) -> nn.Module:
    # No auxiliary heads: the model then returns one tensor, as every other entry does.
    # PyTorch's default init, not torchvision's truncated normal: that takes 20x longer to build
    # (1.6 s against 0.08 s here) and batch norm after every conv makes its scale moot.
    return _torchvision(
        "googlenet",
        num_classes,
        in_channels,
        aux_logits=aux_logits,
        init_weights=init_weights,
        **kwargs,
    )


def _resnet_small_input(
    builder: str, num_classes: int, in_channels: int, **kwargs: Any
) -> nn.Module:
    """The CIFAR ResNet stem (He et al. 2015, sec. 4.2): a 3x3 stride-1 conv1 and no max pool,
    so a 32x32 image reaches the first stage at 32x32 instead of 8x8."""
    model = _torchvision(builder, num_classes, 3, **kwargs)
    model.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return model


def _vgg_small_input(
    builder: str, num_classes: int, in_channels: int, dropout: float = 0.0, **kwargs: Any
) -> nn.Module:
    """VGG's features without the last max pool (28x28 images would shrink to 0x0; 32x32 ones
    end at 2x2), then a global average pool and one linear layer, 512 -> num_classes."""
    tv = import_torchvision()
    # Built on the meta device, so torchvision's 25088x4096 classifier, replaced below, is never
    # allocated nor initialised (about a second and 500 MB); the features are then made real.
    with torch.device("meta"):
        model = tv.models.get_model(builder, num_classes=num_classes, **kwargs)
    model.features.to_empty(device=torch.get_default_device())
    for module in model.features.modules():
        if isinstance(module, nn.Conv2d):  # He init, as torchvision's VGG does
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()  # also resets the running statistics
    # Identity rather than deletion keeps the indices (and state-dict keys) of torchvision's
    # features, which HED's loader and torchvision checkpoints use.
    model.features[-1] = nn.Identity()
    model.avgpool = nn.AdaptiveAvgPool2d(1)
    model.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(512, num_classes))
    return adapt_input_channels(model, in_channels)


def _mobilenet_v2_small_input(num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """The CIFAR MobileNetV2: stride 1 in the first conv and in the first 24-channel block, so
    the network shrinks images 8x instead of 32x (32x32 -> 4x4)."""
    model = _torchvision("mobilenet_v2", num_classes, in_channels, **kwargs)
    model.features[0][0].stride = (1, 1)  # the stem conv
    model.features[2].conv[1][0].stride = (1, 1)  # the depthwise conv of the first 24-ch block
    return model


def _googlenet_small_input(num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """GoogLeNet with a 3x3 stride-1 stem and without the two max pools before inception3a, so
    the inception blocks see 32x32, 16x16 and 8x8 maps instead of 4x4, 2x2 and 1x1."""
    model = _googlenet(num_classes, 3, **kwargs)
    # The stem's own class (a conv, batch norm and ReLU), so the state-dict keys stay the same.
    model.conv1 = type(model.conv1)(in_channels, 64, kernel_size=3, stride=1, padding=1)
    model.maxpool1 = nn.Identity()
    model.maxpool2 = nn.Identity()
    return model


def _vit_tiny_28(num_classes: int, in_channels: int, **kwargs: Any) -> nn.Module:
    """A 6-layer ViT for 28x28 images: 4x4 patches (49 tokens), width 128, 4 heads, MLP 256."""
    settings = dict(image_size=28, patch_size=4, num_layers=6, num_heads=4, hidden_dim=128)
    settings.update(mlp_dim=256, num_classes=num_classes)
    settings.update(kwargs)
    model = import_torchvision().models.VisionTransformer(**settings)
    return adapt_input_channels(model, in_channels)


def _load_hed(model: nn.Module) -> None:
    load_hed_vgg16(model.features)


def _imagenet(
    name: str, family: str, what: str, parameters: int, note: str = "", **extra: Any
) -> None:
    """Register torchvision's ``name``, with its standard ImageNet weights for pretrained=True."""
    extra.setdefault("build", partial(_torchvision, name))
    description = f"{what} for 224x224 images (torchvision){note}"
    register(
        ModelEntry(
            name, family, description, 224, 32, parameters, torchvision_weights=name, **extra
        )
    )


def _small_input(
    name: str, family: str, what: str, build: Any, note: str = "", **extra: Any
) -> None:
    """Register a variant for 32x32 (and 28x28) images; no published weights."""
    description = f"{what}, for 32x32 or 28x28 images{note}"
    register(ModelEntry(name, family, description, 32, 28, None, build, **extra))


# Parameter counts: torchvision's weights metadata (num_params), at 1000 classes.
_imagenet("resnet18", "resnet", "ResNet-18 (He et al. 2015)", 11_689_512)
_imagenet("resnet34", "resnet", "ResNet-34 (He et al. 2015)", 21_797_672)
_imagenet("resnet50", "resnet", "ResNet-50 (He et al. 2015)", 25_557_032)
_imagenet("vgg11", "vgg", "VGG-11 (Simonyan & Zisserman 2014)", 132_863_336)
_imagenet("vgg11_bn", "vgg", "VGG-11 with batch norm", 132_868_840)
_imagenet(
    "vgg16",
    "vgg",
    "VGG-16 (Simonyan & Zisserman 2014)",
    138_357_544,
    note=_HED_NOTE,
    named_weights={"hed": _load_hed},
)
_imagenet("vgg16_bn", "vgg", "VGG-16 with batch norm", 138_365_992)
_imagenet("mobilenet_v2", "mobilenet_v2", "MobileNetV2 (Sandler et al. 2018)", 3_504_872)
_imagenet(
    "googlenet",
    "googlenet",
    "GoogLeNet, Inception v1 (Szegedy et al. 2014), without auxiliary heads",
    6_624_904,
    build=_googlenet,
    # torchvision's weights expect its input transform, and come with the auxiliary heads.
    pretrained_kwargs={"transform_input": True},
    skip_prefixes=("aux1.", "aux2."),
)
_imagenet("vit_b_16", "vit", "ViT-B/16 (Dosovitskiy et al. 2020)", 86_567_656)

_small_input(
    "resnet18_small_input",
    "resnet",
    "ResNet-18 with the CIFAR stem (3x3 stride-1 conv, no max pool)",
    partial(_resnet_small_input, "resnet18"),
)
_small_input(
    "resnet34_small_input",
    "resnet",
    "ResNet-34 with the CIFAR stem (3x3 stride-1 conv, no max pool)",
    partial(_resnet_small_input, "resnet34"),
)
_small_input(
    "resnet50_small_input",
    "resnet",
    "ResNet-50 with the CIFAR stem (3x3 stride-1 conv, no max pool)",
    partial(_resnet_small_input, "resnet50"),
)
_small_input(
    "vgg11_small_input",
    "vgg",
    "VGG-11 without its last max pool, global average pool, 512 -> classes",
    partial(_vgg_small_input, "vgg11"),
)
_small_input(
    "vgg16_small_input",
    "vgg",
    "VGG-16 without its last max pool, global average pool, 512 -> classes",
    partial(_vgg_small_input, "vgg16"),
    note=_HED_NOTE,
    named_weights={"hed": _load_hed},
)
_small_input(
    "vgg16_bn_small_input",
    "vgg",
    "VGG-16 with batch norm, without its last max pool, global average pool, 512 -> classes",
    partial(_vgg_small_input, "vgg16_bn"),
)
_small_input(
    "mobilenet_v2_small_input",
    "mobilenet_v2",
    "MobileNetV2 with stride 1 in its stem and first 24-channel block (CIFAR's)",
    _mobilenet_v2_small_input,
)
_small_input(
    "googlenet_small_input",
    "googlenet",
    "GoogLeNet with a 3x3 stride-1 stem and no max pools before the inception blocks",
    _googlenet_small_input,
)
register(
    ModelEntry(
        "vit_tiny_28",
        "vit",
        "A 6-layer ViT (width 128, 4 heads, 4x4 patches) for 28x28 images; image_size=32 too",
        28,
        28,
        None,
        _vit_tiny_28,
    )
)
register(
    ModelEntry(
        "lenet5",
        "lenet",
        "LeNet-5 (LeCun et al. 1998) for 28x28 or 32x32 grey images",
        28,
        28,
        None,
        LeNet5,
    )
)
register(
    ModelEntry(
        "small_resnet",
        "small_resnet",
        "ember's small ResNet (3 stages, 32-64-128 channels) for 28x28 grey images",
        28,
        28,
        None,
        SmallResNet,
        native_format="channels_last",
    )
)
