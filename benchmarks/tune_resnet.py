"""Train ``SmallResNet`` on Fashion-MNIST with ember's engine; report test accuracy and wall time.

The experiments behind the ``fashion-resnet`` recipe (2 CPU cores, no GPU). Defaults are the chosen
settings; every flag changes one of them:

    python benchmarks/tune_resnet.py                                  # the recipe, ~8 minutes
    python benchmarks/tune_resnet.py --subset 10000 --epochs 1        # time one epoch on 10k images
    python benchmarks/tune_resnet.py --widths 24 48 96 --epochs 12 --val-size 5000

Test accuracy is reported with and without test-time flip (the mean of the softmax of an image
and of its mirror image). Wall time counts everything after the data is loaded: training,
validation and the test evaluation. Other processes on the machine slow a run down; the CPU time
divided by the thread count is printed beside the wall time to tell when that happened.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

import ember
from ember import datasets
from ember.data import Augment, RandomCrop, RandomErasing, RandomFlip, train_test_split
from ember.schedules import OneCycle
from ember.zoo.resnet import SmallResNet


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--blocks-per-stage", type=int, default=1)
    parser.add_argument("--stem-stride", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd")
    parser.add_argument("--learning-rate", type=float, default=0.2, help="one-cycle peak")
    parser.add_argument("--pct-start", type=float, default=0.25)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--crop-padding", type=int, default=2, help="0 turns random crops off")
    parser.add_argument("--erasing", type=float, default=0.0, help="random-erasing probability")
    parser.add_argument("--no-flip", action="store_true", help="no horizontal flips in training")
    parser.add_argument("--val-size", type=int, default=0, help="stratified hold-out; 0: none")
    parser.add_argument("--subset", type=int, default=0, help="train on the first N images only")
    parser.add_argument("--precision", default="32", choices=["32", "bf16"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    return parser.parse_args()


def build_augmentation(args: argparse.Namespace) -> nn.Module:
    """Flips, 28x28 crops of the padded image and erasing; each acts only in training mode."""
    transforms: list[nn.Module] = []
    if not args.no_flip:
        transforms.append(RandomFlip("horizontal"))
    if args.crop_padding:
        transforms.append(RandomCrop(28, 28, padding=args.crop_padding))
    if args.erasing:
        transforms.append(RandomErasing(probability=args.erasing))
    return Augment(*transforms)


def build_optimizer(args: argparse.Namespace) -> ember.optimizers.OptimizerSpec:
    schedule = OneCycle(args.learning_rate, pct_start=args.pct_start, cycle_momentum=True)
    if args.optimizer == "sgd":
        return ember.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=args.weight_decay
        )
    return ember.optimizers.AdamW(schedule, weight_decay=args.weight_decay)


@torch.inference_mode()
def test_accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy without and with test-time flip (softmax of the image and its mirror, averaged)."""
    net.eval()
    correct, correct_flipped = 0, 0
    for start in range(0, len(x), 1000):
        images, labels = x[start : start + 1000], y[start : start + 1000]  # (B, H, W, C), (B,)
        probabilities = net(images).softmax(-1)  # (B, classes)
        mirrored = net(images.flip(2)).softmax(-1)  # width is axis 2 of (B, H, W, C)
        correct += int((probabilities.argmax(-1) == labels).sum())
        correct_flipped += int(((probabilities + mirrored).argmax(-1) == labels).sum())
    return correct / len(x), correct_flipped / len(x)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    (x, y), (x_test, y_test) = datasets.fashion_mnist.load_data()
    x = (x[..., None] / 255.0).astype(np.float32)  # (60000, 28, 28, 1)
    x_test = torch.from_numpy((x_test[..., None] / 255.0).astype(np.float32))
    y_test = torch.from_numpy(y_test.astype(np.int64))
    validation = None
    if args.val_size:
        x, x_val, y, y_val = train_test_split(
            x, y, test_size=args.val_size / len(x), stratify=True, seed=args.seed
        )
        validation = (x_val, y_val)
    if args.subset:
        x, y = x[: args.subset], y[: args.subset]

    start, cpu_start = time.perf_counter(), time.process_time()
    ember.set_seed(args.seed)
    net = SmallResNet(
        widths=tuple(args.widths),
        blocks_per_stage=args.blocks_per_stage,
        dropout=args.dropout,
        stem_stride=args.stem_stride,
    )
    task = ember.Supervised(
        nn.Sequential(build_augmentation(args), net),
        loss=nn.CrossEntropyLoss(label_smoothing=args.label_smoothing),
        metrics=["accuracy"],
        from_logits=True,
    )
    trainer = ember.Trainer(
        task,
        optimizer=build_optimizer(args),
        epochs=args.epochs,
        precision=args.precision,
        device="cpu",
    )
    trainer.fit((x, y), validation, batch_size=args.batch_size, verbose=args.verbose)
    train_seconds = time.perf_counter() - start
    plain, flipped = test_accuracy(net, x_test, y_test)
    total_seconds = time.perf_counter() - start
    # CPU time / threads is the wall time this run would take alone on the machine.
    cpu_seconds = time.process_time() - cpu_start

    parameters = sum(p.numel() for p in net.parameters())
    print(
        f"widths={args.widths} stem_stride={args.stem_stride} params={parameters} "
        f"train_images={len(x)} epochs={args.epochs} batch_size={args.batch_size} "
        f"{args.optimizer} lr={args.learning_rate} wd={args.weight_decay} seed={args.seed}"
    )
    print(
        f"test accuracy {plain:.4f}, with flip {flipped:.4f} | train {train_seconds:.1f}s "
        f"({train_seconds / args.epochs:.1f}s/epoch), total {total_seconds:.1f}s, "
        f"CPU time / threads {cpu_seconds / args.threads:.1f}s"
    )


if __name__ == "__main__":
    main()
