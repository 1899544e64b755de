"""MixUp/CutMix: torchvision's sampling, ember's layouts, the mixing formulas and argument checks."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F

from ember.data import CutMix, MixUp, MixUpOrCutMix
from ember.errors import ConfigError, DataError, ShapeError
from ember.vision_imports import import_torchvision


def _v2():
    import_torchvision()
    return importlib.import_module("torchvision.transforms.v2")


def _batch(n: int = 6, height: int = 8, width: int = 10, channels: int = 3):
    generator = torch.Generator().manual_seed(123)
    images = torch.rand(n, height, width, channels, generator=generator)  # (N, H, W, C)
    labels = torch.randint(0, 4, (n,), generator=generator)
    return images, labels


def test_defaults_are_the_reference_recipes_alphas():
    assert MixUp(num_classes=3).alpha == 0.2
    assert CutMix(num_classes=3).alpha == 1.0
    both = MixUpOrCutMix(num_classes=3)
    assert (both.mixup_alpha, both.cutmix_alpha, both.cutmix_probability) == (0.2, 1.0, 0.5)


@pytest.mark.parametrize(
    ("ember_class", "torchvision_name"), [(MixUp, "MixUp"), (CutMix, "CutMix")]
)
def test_channels_last_gives_torchvisions_result_in_ember_layout(ember_class, torchvision_name):
    images, labels = _batch()
    torch.manual_seed(7)
    mixed, probabilities = ember_class(1.0, num_classes=4)(images, labels)
    torch.manual_seed(7)
    reference = getattr(_v2(), torchvision_name)(alpha=1.0, num_classes=4)
    expected, expected_probabilities = reference(images.permute(0, 3, 1, 2), labels)
    assert torch.equal(mixed, expected.permute(0, 2, 3, 1))
    assert torch.equal(probabilities, expected_probabilities)


@pytest.mark.parametrize("ember_class", [MixUp, CutMix])
def test_channels_first_input_is_passed_as_it_is(ember_class):
    images, labels = _batch()
    torch.manual_seed(3)
    last, last_probabilities = ember_class(num_classes=4)(images, labels)
    torch.manual_seed(3)
    first, first_probabilities = ember_class(num_classes=4, data_format="channels_first")(
        images.permute(0, 3, 1, 2), labels
    )
    assert torch.equal(first.permute(0, 2, 3, 1), last)
    assert torch.equal(first_probabilities, last_probabilities)


def test_mixup_blends_each_image_with_its_neighbour_by_one_weight():
    images, _ = _batch()
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    torch.manual_seed(0)
    mixed, probabilities = MixUp(alpha=1.0, num_classes=4)(images, labels)
    onehot = F.one_hot(labels, 4).float()
    # lam is read off the labels; the pairing is torchvision's: each sample with the one before.
    lam = probabilities[0, 0]
    assert 0 < lam < 1
    torch.testing.assert_close(mixed, lam * images + (1 - lam) * images.roll(1, 0))
    torch.testing.assert_close(probabilities, lam * onehot + (1 - lam) * onehot.roll(1, 0))


def test_cutmix_pastes_one_box_of_the_neighbour_across_all_channels():
    images, labels = _batch(n=4, height=16, width=20)
    labels = torch.tensor([0, 1, 2, 3])
    torch.manual_seed(1)
    mixed, probabilities = CutMix(num_classes=4)(images, labels)
    pasted = (mixed == images.roll(1, 0)).all(-1) & (mixed != images).any(-1)  # (N, H, W)
    kept = (mixed == images).all(-1)
    assert bool((pasted | kept).all())  # every pixel is its own or the neighbour's, whole
    fraction = pasted.float().mean((1, 2))  # the same box in every image
    assert 0 < fraction[0] < 1 and torch.allclose(fraction, fraction[0].expand(4))
    rows, columns = pasted[0].any(1).nonzero().flatten(), pasted[0].any(0).nonzero().flatten()
    box = int(rows.numel() * columns.numel())  # a rectangle: its rows times its columns
    assert box == int(pasted[0].sum())
    torch.testing.assert_close(probabilities[0, 3], fraction[0])  # image 0's partner is image 3
    torch.testing.assert_close(probabilities[0, 0], 1 - fraction[0])


@pytest.mark.parametrize(("probability", "is_cutmix"), [(0.0, False), (1.0, True)])
def test_mixup_or_cutmix_picks_by_probability(probability, is_cutmix):
    images, labels = _batch()
    for seed in range(5):
        torch.manual_seed(seed)
        mix = MixUpOrCutMix(1.0, 1.0, num_classes=4, cutmix_probability=probability)
        mixed, _ = mix(images, labels)
        whole_pixels = (mixed == images).all(-1) | (mixed == images.roll(1, 0)).all(-1)
        assert bool(whole_pixels.all()) == is_cutmix


def test_integer_labels_of_shape_n_by_1_are_accepted():
    images, labels = _batch()
    torch.manual_seed(0)
    _, probabilities = MixUp(num_classes=4)(images, labels.view(-1, 1))
    assert probabilities.shape == (6, 4)


@pytest.mark.parametrize(
    "labels",
    [
        F.one_hot(torch.tensor([0, 1, 2, 3, 0, 1]), 4).float(),  # one-hot / soft labels
        torch.tensor([0.0, 1.0, 2.0, 3.0, 0.0, 1.0]),  # float class indices
        torch.tensor([0, 1, 2]),  # one label per image, not three for six images
    ],
)
def test_labels_other_than_integer_classes_fail_clearly(labels):
    images, _ = _batch()
    with pytest.raises(DataError, match=r"MixUp expects integer class labels of shape \(6,\)"):
        MixUp(num_classes=4)(images, labels)


def test_integer_images_and_single_images_fail_clearly():
    images, labels = _batch()
    with pytest.raises(DataError, match="floating-point images.*Fix"):
        CutMix(num_classes=4)((images * 255).to(torch.uint8), labels)
    with pytest.raises(ShapeError, match=r"received shape \(8, 10, 3\)"):
        CutMix(num_classes=4)(images[0], labels[:1])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MixUp(0.0, num_classes=3), "expected a positive number, received alpha=0.0"),
        (lambda: CutMix(-1, num_classes=3), "expected a positive number, received alpha=-1"),
        (lambda: MixUp(num_classes=1), "expected an integer >= 2, received num_classes=1"),
        (lambda: CutMix(num_classes=2.5), "received num_classes=2.5"),
        (lambda: MixUp(num_classes=3, data_format="nhwc"), "received data_format='nhwc'"),
        (
            lambda: MixUpOrCutMix(num_classes=3, cutmix_probability=1.5),
            "received cutmix_probability=1.5",
        ),
        (lambda: MixUpOrCutMix(cutmix_alpha=0, num_classes=3), "received cutmix_alpha=0"),
    ],
)
def test_bad_arguments_fail_up_front(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_mixing_keeps_the_batch_on_its_device():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    images, labels = (t.to(device) for t in _batch())
    for transform in (MixUp(num_classes=4), CutMix(num_classes=4)):
        mixed, probabilities = transform(images, labels)
        assert mixed.device == images.device and probabilities.device == images.device
        torch.testing.assert_close(probabilities.sum(-1), torch.ones(6, device=device))
