"""The transfer-learning recipes do the steps they describe, and cifar10-resnet runs end to end.

``transfer-vgg16``: the frozen convolutions keep HED's weights bit for bit, the top block and the
head train. ``transfer-in-domain``: pretraining sees only classes 0-4, the few labels are classes
5-9 relabelled, and each method moves exactly the weights it says. ``cifar10-resnet``: a run on a
generated CIFAR-10 archive, with predictions averaged over the image and its mirror image.

Every run is a few dozen images for one epoch: the recipe module's ``load_images`` is replaced
by one that keeps the first Fashion-MNIST images of each split; cifar10-resnet reads a generated
archive of a few images.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from ember import recipes
from ember.datasets.fixtures import write_cifar10_binary
from ember.errors import ConfigError
from ember.recipes import transfer_in_domain, transfer_vgg16
from ember.recipes.config import apply_overrides
from ember.recipes.experiment import DataSplits
from ember.recipes.images import load_images
from ember.runs import metrics_log, training
from ember.saving import read_tensors, save_weights
from ember.seeding import set_seed
from ember.zoo.hed_vgg16 import read_hed_vgg16

FROZEN_CONVOLUTIONS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21)  # conv1_1 .. conv4_3 in vgg16().features
TOP_BLOCK = (24, 26, 28)  # conv5_1 .. conv5_3: what fine_tune_from="features.24" unfreezes
NO_REPORT_EXTRAS = {"feature_maps": (), "device": "cpu"}  # no PCA plot: quicker runs


@functools.cache
def _fashion_mnist() -> DataSplits:
    return load_images("fashion_mnist", validation_size=0, seed=0)


def use_first_images(monkeypatch: pytest.MonkeyPatch, module: Any, train: int, test: int) -> None:
    """Make ``module.load_images`` return Fashion-MNIST's first ``train`` and ``test`` images."""

    def load(*args: Any, **kwargs: Any) -> DataSplits:
        data = _fashion_mnist()
        return DataSplits(
            (data.train[0][:train].clone(), data.train[1][:train].clone()),
            None,
            (data.test[0][:test].clone(), data.test[1][:test].clone()),
            data.class_names,
            data.input_shape,
        )

    monkeypatch.setattr(module, "load_images", load)


def train_keeping_experiment(
    monkeypatch: pytest.MonkeyPatch, name: str, config: Any, root: Path
) -> tuple[training.RunResult, Any]:
    """``training.train`` the recipe ``name``; also return the experiment it trained."""
    recipe = recipes.get(name)
    built: list[Any] = []
    build: Callable[[Any], Any] = recipe.module.build

    def build_and_keep(config: Any) -> Any:
        built.append(build(config))
        return built[-1]

    monkeypatch.setattr(recipe.module, "build", build_and_keep)
    result = training.train(recipe, config, root=root, verbose=0)
    return result, built[-1]


def first_epoch(run_dir: Path) -> dict[str, Any]:
    return metrics_log.epochs(run_dir / metrics_log.METRICS_FILE)[0]


def changed(before: torch.Tensor, after: torch.Tensor) -> bool:
    return not torch.equal(before, after.detach().cpu())


# -- transfer-vgg16 ------------------------------------------------------------------------------
def vgg16_config(**fields: Any) -> Any:
    # Step 3 from conv5_1, so that conv1_1 .. conv4_3 stay HED's (the default is conv4_1).
    settings = dict(head_epochs=1, epochs=1, batch_size=8, flip=False, fine_tune_from="features.24")
    return recipes.get("transfer-vgg16").config(**{**settings, **NO_REPORT_EXTRAS, **fields})


def test_vgg16_keeps_hed_weights_up_to_conv4_3_and_trains_the_top_block_and_head(
    monkeypatch, tmp_path
):
    use_first_images(monkeypatch, transfer_vgg16, train=16, test=20)
    hed = read_hed_vgg16()
    result, experiment = train_keeping_experiment(
        monkeypatch, "transfer-vgg16", vgg16_config(), tmp_path
    )
    network = experiment.network[2]  # Sequential(Augment, VGGInput, the VGG16)
    features = network.features
    for index in FROZEN_CONVOLUTIONS:
        for kind in ("weight", "bias"):
            weight = getattr(features[index], kind)
            assert torch.equal(weight.detach().cpu(), hed[f"{index}.{kind}"]), (index, kind)
    for index in TOP_BLOCK:
        assert changed(hed[f"{index}.weight"], features[index].weight), index
    # The head starts from the run's seeded random init: built again, it is where it started.
    set_seed(0)
    start = recipes.get("transfer-vgg16").build(vgg16_config()).network[2].classifier[1]
    assert changed(start.weight.detach(), network.classifier[1].weight)
    epoch = first_epoch(result.run_dir)
    assert epoch["head_seconds"] >= 0 and 0 <= epoch["head_accuracy"] <= 1
    assert 0 <= result.test["accuracy"] <= 1


def test_vgg16_from_scratch_has_no_head_phase_and_trains_every_convolution(monkeypatch, tmp_path):
    use_first_images(monkeypatch, transfer_vgg16, train=16, test=20)
    config = vgg16_config(pretrained="none")  # head_epochs=1 still: no head phase
    set_seed(config.seed)
    start = recipes.get("transfer-vgg16").build(config).network[2].state_dict()
    result, experiment = train_keeping_experiment(monkeypatch, "transfer-vgg16", config, tmp_path)
    network = experiment.network[2]
    assert experiment.callbacks == []  # no HeadTraining
    for index in (*FROZEN_CONVOLUTIONS, *TOP_BLOCK):
        assert changed(start[f"features.{index}.weight"], network.features[index].weight), index
    assert changed(start["classifier.1.weight"], network.classifier[1].weight)
    epoch = first_epoch(result.run_dir)
    assert "head_seconds" not in epoch and "head_accuracy" not in epoch


@pytest.mark.parametrize("name", ["features.99", "block5"])
def test_vgg16_names_the_layers_when_fine_tune_from_is_not_one(monkeypatch, tmp_path, name):
    use_first_images(monkeypatch, transfer_vgg16, train=16, test=20)
    with pytest.raises(ConfigError) as caught:
        training.train(
            recipes.get("transfer-vgg16"),
            vgg16_config(fine_tune_from=name),
            root=tmp_path,
            verbose=0,
        )
    message = str(caught.value)
    assert message.startswith("transfer-vgg16: ")
    assert f"received fine_tune_from={name!r}" in message
    assert "features.17 (conv4_1)" in message and "features.28 (conv5_3)" in message
    assert list(tmp_path.iterdir()) == []  # failed before the run folder (and any training)


# -- transfer-in-domain --------------------------------------------------------------------------
def in_domain_config(**fields: Any) -> Any:
    settings = dict(
        pretrain_samples=64,
        # Pretraining takes batches of 256, so one epoch of 64 images is one step: too short for
        # its one-cycle schedule (a ConfigError once the run has started). Two epochs: two steps.
        pretrain_epochs=2,
        labels_per_class=4,
        epochs=1,
        batch_size=10,
        widths=(8, 16),
        **NO_REPORT_EXTRAS,
    )
    return recipes.get("transfer-in-domain").config(**{**settings, **fields})


def indexed_images(labels: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 2, 2, 1) whose every pixel is the image's index, so a split tells its source."""
    index = torch.arange(len(labels), dtype=torch.float32)
    return index.view(-1, 1, 1, 1).expand(-1, 2, 2, 1).clone(), torch.tensor(labels)


def sources(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_in_domain_pretrains_on_classes_0_to_4_and_learns_5_to_9_from_a_few_relabelled():
    x, y = indexed_images([k % 10 for k in range(100)])  # 10 images of each class
    x_test, y_test = indexed_images([k % 10 for k in range(30)])
    names = [f"class {k}" for k in range(10)]
    data = DataSplits((x, y), None, (x_test, y_test), names, (2, 2, 1))
    config = in_domain_config(pretrain_samples=12, labels_per_class=4)
    pretrain, few = transfer_in_domain.split_classes(data, config)
    source_images = [k for k in range(100) if k % 10 < 5][:12]  # the first 12 of classes 0-4
    assert sources(pretrain.train[0]) == source_images
    assert pretrain.train[1].tolist() == [k % 10 for k in source_images]
    assert pretrain.class_names == names[:5]
    picked = sources(few.train[0])
    assert len(set(picked)) == len(picked) == 5 * 4
    assert [y[k].item() - 5 for k in picked] == few.train[1].tolist()  # relabelled 5-9 -> 0-4
    assert torch.bincount(few.train[1], minlength=5).tolist() == [4, 4, 4, 4, 4]
    assert sources(few.test[0]) == [k for k in range(30) if k % 10 >= 5]
    assert few.test[1].tolist() == [k % 10 - 5 for k in range(30) if k % 10 >= 5]
    assert few.class_names == names[5:]


def test_in_domain_features_trains_only_the_head_on_the_saved_backbone(monkeypatch, tmp_path):
    use_first_images(monkeypatch, transfer_in_domain, train=300, test=60)
    config = in_domain_config(method="features")
    result, experiment = train_keeping_experiment(
        monkeypatch, "transfer-in-domain", config, tmp_path
    )
    saved = read_tensors(result.run_dir / transfer_in_domain.BACKBONE_FILE)
    state = experiment.network.state_dict()
    body = [name for name in state if not name.startswith("head.")]
    assert sorted(saved) == sorted(state)  # the pretrained network, its own head included
    assert any(name.endswith("running_mean") for name in body)  # batch norm's statistics too
    for name in body:
        assert torch.equal(state[name].cpu(), saved[name]), name
    # The run's start, built again: the head moved from there, and it is not the file's head.
    set_seed(config.seed)
    start = recipes.get("transfer-in-domain").build(config).network.head.weight.detach()
    assert changed(start, state["head.weight"])
    assert changed(saved["head.weight"], state["head.weight"])
    assert torch.bincount(experiment.data.train[1]).tolist() == [4, 4, 4, 4, 4]
    epoch = first_epoch(result.run_dir)
    assert epoch["pretrain_seconds"] >= 0 and 0 <= epoch["pretrain_accuracy"] <= 1
    assert 0 <= result.test["accuracy"] <= 1


def test_in_domain_fine_tune_gives_the_stem_lr_ratio_times_less_than_the_head(
    monkeypatch, tmp_path
):
    use_first_images(monkeypatch, transfer_in_domain, train=300, test=60)
    config = in_domain_config(method="fine_tune", lr_ratio=10.0)
    result, experiment = train_keeping_experiment(
        monkeypatch, "transfer-in-domain", config, tmp_path
    )
    network = experiment.network
    assert network.stem[0].weight.lr_scale == pytest.approx(0.1)
    assert network.head.weight.lr_scale == 1.0
    groups = experiment.trainer.optimizer.param_groups  # the run's Adam, after pretraining
    assert [group["lr_scale"] for group in groups] == pytest.approx([0.1, 0.1**0.5, 1.0])
    # Where the cosine schedule started each group: the head at learning_rate, the stem 10x lower.
    assert groups[-1]["initial_lr"] == pytest.approx(config.learning_rate)
    assert groups[0]["initial_lr"] == pytest.approx(config.learning_rate / 10)
    assert any(p is network.stem[0].weight for p in groups[0]["params"])
    assert any(p is network.head.weight for p in groups[-1]["params"])
    assert (result.run_dir / transfer_in_domain.BACKBONE_FILE).is_file()


def test_in_domain_scratch_neither_pretrains_nor_writes_a_backbone(monkeypatch, tmp_path):
    use_first_images(monkeypatch, transfer_in_domain, train=300, test=60)
    result, _ = train_keeping_experiment(
        monkeypatch, "transfer-in-domain", in_domain_config(method="scratch"), tmp_path
    )
    assert not (result.run_dir / transfer_in_domain.BACKBONE_FILE).exists()
    assert "pretrain_seconds" not in first_epoch(result.run_dir)
    assert 0 <= result.test["accuracy"] <= 1


def test_in_domain_a_missing_backbone_file_is_named(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    recipe = recipes.get("transfer-in-domain")
    config = apply_overrides(
        in_domain_config(), ["backbone=missing.safetensors"], recipe=recipe.name
    )
    with pytest.raises(ConfigError, match=r"backbone='missing\.safetensors' is not a file"):
        recipe.build(config)


def test_in_domain_a_saved_backbone_is_loaded_instead_of_pretraining(monkeypatch, tmp_path):
    use_first_images(monkeypatch, transfer_in_domain, train=300, test=60)
    config = in_domain_config(method="features")
    torch.manual_seed(1234)  # not the run's seed: these weights are not the run's own init
    backbone = transfer_in_domain.network(config)
    with torch.no_grad():
        for module in backbone.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
    path = tmp_path / "backbone.safetensors"
    save_weights(backbone, path)
    result, experiment = train_keeping_experiment(
        monkeypatch,
        "transfer-in-domain",
        in_domain_config(method="features", backbone=str(path)),
        tmp_path / "runs",
    )
    state, saved = experiment.network.state_dict(), read_tensors(path)
    for name in state:
        if not name.startswith("head."):
            assert torch.equal(state[name].cpu(), saved[name]), name
    assert not (result.run_dir / transfer_in_domain.BACKBONE_FILE).exists()
    assert "pretrain_seconds" not in first_epoch(result.run_dir)


# -- cifar10-resnet ------------------------------------------------------------------------------
@pytest.fixture
def cifar10_fixture(monkeypatch, tmp_path) -> tuple[Any, Any]:
    """A generated CIFAR-10 archive of 5 training and 4 test images, found through EMBER_DATA."""
    archive = tmp_path / "data" / "cifar-10" / "cifar-10-binary.tar.gz"
    splits = write_cifar10_binary(archive, n_train_per_batch=1, n_test=4, seed=3)
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "data"))
    return splits


def cifar10_config(**fields: Any) -> Any:
    settings = dict(epochs=1, batch_size=2, **NO_REPORT_EXTRAS)  # 3 steps: one-cycle needs 2
    return recipes.get("cifar10-resnet").config(**{**settings, **fields})


def test_cifar10_resnet_trains_and_scores_the_fixture_test_images(cifar10_fixture, tmp_path):
    _, (_, y_test) = cifar10_fixture
    result = training.train(
        recipes.get("cifar10-resnet"), cifar10_config(), root=tmp_path / "runs", verbose=0
    )
    assert result.finished and 0 <= result.test["accuracy"] <= 1
    scored = read_tensors(result.run_dir / "evaluation" / "test.safetensors")
    assert scored["labels"].tolist() == y_test.reshape(-1).tolist()  # the fixture's 4 images
    hits = (scored["probabilities"].argmax(-1) == scored["labels"]).float().mean()
    assert result.test["accuracy"] == pytest.approx(hits.item())


def test_cifar10_resnet_predicts_the_mean_of_the_image_and_its_mirror_image(cifar10_fixture):
    # Float32: under the default bfloat16 the engine's predict rounds what is compared here.
    experiment = recipes.get("cifar10-resnet").build(cifar10_config(precision="32"))
    network = experiment.network.eval()
    x = experiment.data.test[0][:2]  # (N, H, W, C): dim 2 is the width
    with torch.no_grad():
        plain = torch.softmax(network(x), -1)
        expected = (plain + torch.softmax(network(x.flip(2)), -1)) / 2
        predicted = experiment.predict(x)
    torch.testing.assert_close(predicted, expected)
    torch.testing.assert_close(experiment.probabilities(x), expected)  # what evaluation uses
    assert not torch.allclose(predicted, plain)  # the mirror image counts
