"""``fashion-resnet``: our fast recipe, a small residual CNN tuned for speed to accuracy.

What makes it fast to a good accuracy, in order of effect: batch norm and residual blocks (a
deeper network that still trains quickly), a one-cycle schedule with SGD-Nesterov at a high peak
learning rate, a head that flattens the last 4x4 feature map instead of averaging it (where a
feature is matters in small centred images), random flips and 2-pixel random crops (on the
device, training only), label smoothing, and averaging the prediction over the image and its
mirror image at test time. The stem convolution sees the full 28x28 image and a max pool halves
it, so the residual stages work on 14x14 maps and below: four times less work per block than at
28x28. bfloat16 autocast (these CPUs have AVX512-BF16) makes a step of the 32-64-128 network
1.5x faster, which buys 30 epochs in under ten minutes on two cores. docs/benchmarks.md has the
experiments behind the defaults.

``cifar10-resnet`` is the same training for torchvision's ResNet-18 with the small-image stem
(``--set model=NAME`` takes any zoo network, see ``ember list``) on CIFAR-10, for those who have
it: the literature reports 93.02% test accuracy for this network after 200 epochs of SGD with a
cosine schedule (kuangliu/pytorch-cifar's ResNet18) and about 94% in 24 one-cycle epochs for
the DAWNBench-era ResNet speed runs with the same crops and flips (Page 2018, ResNet-9); an epoch
of 50,000 images takes tens of minutes on two CPU cores, so it is meant for a GPU.

    ember train fashion-resnet
    ember train fashion-resnet --set widths=24,48,96 --epochs 10 --set precision=32
    ember train cifar10-resnet
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

from torch import nn

from ember import checks, optimizers
from ember.data import Augment, RandomCrop, RandomFlip, with_test_time_augmentation
from ember.recipes.config import RecipeConfig, fraction, open_fraction
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images
from ember.schedules import OneCycle
from ember.tasks import Supervised
from ember.train import Trainer
from ember.zoo import catalog
from ember.zoo.resnet import SmallResNet


@dataclass
class Config(RecipeConfig):
    dataset: str = "fashion_mnist"  # which dataset: fashion_mnist, mnist or cifar10
    model: str = "small_resnet"  # small_resnet (set by the fields below) or a zoo name
    epochs: int = 30  # passes over the training images
    batch_size: int = 256  # images per training step
    widths: tuple[int, ...] = (32, 64, 128)  # channels of each residual stage
    blocks_per_stage: int = 1  # residual blocks per stage
    stem_stride: int = 1  # stride of the first convolution
    stem_pool: bool = True  # 2x2 max pool after the stem (stages run at 14x14 and below)
    head: Literal["flatten", "pool"] = "flatten"  # flatten the last feature map, or average-pool it
    learning_rate: float = 0.2  # peak of the one-cycle schedule (SGD with Nesterov momentum)
    warmup_fraction: float = 0.25  # share of the steps spent rising to the peak
    weight_decay: float = 5e-4  # L2 penalty on the weights
    label_smoothing: float = 0.1  # share of each target spread over all classes
    crop_padding: int = 2  # random 28x28 crops of the image padded by this many pixels (0: off)
    flip: bool = True  # random horizontal flips in training, and flip-averaged predictions
    validation_size: float = 0.0  # fraction of training images held out (0: train on all 60k)
    train_samples: int | None = None  # train on a stratified subset of this size (None: all)
    precision: Literal["32", "bf16"] = "bf16"  # bfloat16 autocast (fast with AVX512-BF16)
    compile: bool = False  # run the network through torch.compile

    field_checks = {
        "widths": partial(checks.positive_ints, allow_empty=False),
        "blocks_per_stage": checks.positive_int,
        "stem_stride": checks.positive_int,
        "learning_rate": checks.positive_number,
        "warmup_fraction": open_fraction,
        "weight_decay": checks.non_negative_number,
        "label_smoothing": fraction,
        "crop_padding": checks.non_negative_int,
        "validation_size": fraction,
    }


def check_config(config: Config) -> None:
    """``model`` names a zoo network (checked before any data loads)."""
    if config.model != "small_resnet" and not config.model.startswith("timm/"):
        catalog.entry(config.model)  # an unknown name lists the close ones


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    check_config(config)
    data = load_images(
        config.dataset,
        validation_size=config.validation_size,
        seed=config.seed,
        train_samples=config.train_samples,
    )
    channels = data.input_shape[-1]
    if config.model == "small_resnet":
        network = SmallResNet(
            num_classes=len(data.class_names),
            in_channels=channels,
            widths=config.widths,
            blocks_per_stage=config.blocks_per_stage,
            stem_stride=config.stem_stride,
            stem_pool=config.stem_pool,
            head=config.head,
            image_size=data.input_shape[0],
        )
    else:  # a zoo network, fed ember's channels-last images
        network = catalog.create(
            config.model,
            num_classes=len(data.class_names),
            in_channels=channels,
            data_format="channels_last",
        )
    # -- augmentation: on the device, in training mode only ------------------------------------
    transforms: list[nn.Module] = []
    if config.flip:
        transforms.append(RandomFlip("horizontal"))
    if config.crop_padding:
        height, width = data.input_shape[:2]
        transforms.append(RandomCrop(height, width, padding=config.crop_padding))
    # -- the task: cross-entropy with label smoothing on the network's logits ------------------
    task = Supervised(
        nn.Sequential(Augment(*transforms), network),
        loss=nn.CrossEntropyLoss(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        from_logits=True,
    )
    # -- the optimizer: SGD-Nesterov on a one-cycle schedule (momentum cycles too) -------------
    schedule = OneCycle(config.learning_rate, pct_start=config.warmup_fraction, cycle_momentum=True)
    optimizer = optimizers.SGD(
        schedule, momentum=0.9, nesterov=True, weight_decay=config.weight_decay
    )
    trainer = Trainer(
        task,
        optimizer,
        epochs=config.epochs,
        precision=config.precision,
        compile=config.compile,
        device=config.device,
    )
    return Experiment(
        network=network,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        predict=with_test_time_augmentation(network, "flip", outputs="logits")
        if config.flip
        else None,
    )
