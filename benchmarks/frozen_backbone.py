"""Frozen backbone vs full fine-tuning: one epoch of a ResNet-18, side by side in one run.

Trains a torchvision ResNet-18 with a CIFAR-style stem (3x3 first convolution, no max-pool) on
random 32x32x3 images for one epoch through ``Model.fit``, twice per repeat, interleaved:

* ``full``: every weight trains;
* ``frozen``: ``ember.transfer.freeze`` on everything but the head (``fc``): the engine leaves the
  backbone out of the optimizer and out of ``backward``, and its batch-norm layers run in
  inference mode; only the forward pass through the backbone remains.

and prints seconds per epoch (median over repeats) and the ratio full / frozen.

    python benchmarks/frozen_backbone.py                    # 2,000 images, 3 repeats
    python benchmarks/frozen_backbone.py --samples 256 --repeats 1   # a quick check
    python benchmarks/frozen_backbone.py --device cuda      # on a GPU, synced timers
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
from torch import nn

import ember
from ember import transfer
from ember.vision_imports import import_torchvision

torch.set_num_threads(max(1, os.cpu_count() or 1))
DEVICE = torch.device("cpu")  # set from --device in main()
VARIANTS = ("full", "frozen")


def clock() -> float:
    """``time.perf_counter()`` once the device has finished its queued work (CUDA is async)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def resnet18_small_input(num_classes: int = 10) -> nn.Module:
    """ResNet-18 for 32x32 images: a 3x3 stride-1 stem and no max-pool (the CIFAR variant)."""
    network = import_torchvision().models.resnet18(num_classes=num_classes)
    network.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    network.maxpool = nn.Identity()
    return network


def model_for(variant: str) -> ember.Model:
    network = resnet18_small_input()
    if variant == "frozen":
        transfer.freeze(network)
        transfer.unfreeze(network, starting_at="fc")
    model = ember.Model(network)
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", from_logits=True, device=DEVICE
    )
    return model


def one_epoch(variant: str, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    model = model_for(variant)
    start = clock()
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
    return clock() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2000, help="random 32x32x3 images")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (data on the device)")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda needs a GPU; none is visible here. Fix: --device cpu.")
    generator = torch.Generator().manual_seed(0)
    # Channels-first, as torchvision models take them; on the device before any clock starts.
    x = torch.randn(args.samples, 3, 32, 32, generator=generator).to(DEVICE)
    y = torch.randint(0, 10, (args.samples,), generator=generator).to(DEVICE)
    where = torch.cuda.get_device_name() if DEVICE.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__}, {where}, {torch.get_num_threads()} threads, "
        f"{args.samples} images, batch {args.batch_size}, {args.repeats} repeat(s)"
    )
    for variant in VARIANTS:  # warm-up (allocator, kernels, cuDNN's choices), not timed
        one_epoch(variant, x[: 2 * args.batch_size], y[: 2 * args.batch_size], args.batch_size)
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(args.repeats):
        # Interleave the variants in each repeat so drift in machine load hits both alike.
        for variant in VARIANTS:
            ember.set_seed(0)
            times[variant].append(one_epoch(variant, x, y, args.batch_size))
    full, frozen = (statistics.median(times[variant]) for variant in VARIANTS)
    print()
    print("| variant | s/epoch | images/s |")
    print("|---|---|---|")
    for variant, seconds in (("full", full), ("frozen", frozen)):
        print(f"| {variant} | {seconds:.2f} | {args.samples / seconds:,.0f} |")
    print(f"\nfull / frozen: {full / frozen:.2f}x")


if __name__ == "__main__":
    main()
