"""Training throughput on 1 and on N processes (``torchrun``, DDP), side by side.

An MLP (784 -> hidden -> hidden -> 10, Adam) learns real Fashion-MNIST with the same global batch
on every count of processes; each count runs in fresh processes (the count itself through
``python -m torch.distributed.run --standalone``), warms up on a slice, then times whole epochs
between two barriers, three times (the best counts). Printed: samples per second and the
speed-up over one process, with the machine's load average (measure on an idle machine).

    python benchmarks/distributed.py                          # 1 vs 2 CPU processes (gloo)
    python benchmarks/distributed.py --samples 12000 --repeats 1  # a quick look
    python benchmarks/distributed.py --device cuda --processes 1 2 4   # one GPU each (NCCL)
    python benchmarks/distributed.py --strategy fsdp

CPU processes share the machine's cores: each gets ``cores / N`` threads (OMP_NUM_THREADS), so
the comparison is of the same cores used by one process or split over N.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.distributed as dist
from torch import nn

import ember
from ember import datasets


def worker(args: argparse.Namespace) -> None:
    """Train and time in this process (one of those torchrun started, or alone)."""
    (x, y), _ = datasets.fashion_mnist.load_data()
    x = torch.from_numpy(x[: args.samples] / 255.0).float().flatten(1)
    y = torch.from_numpy(y[: args.samples]).long()
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Linear(784, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, args.hidden),
        nn.ReLU(),
        nn.Linear(args.hidden, 10),
    )
    task = ember.Supervised(network, "sparse_categorical_crossentropy", from_logits=True)
    trainer = ember.Trainer(task, "adam", device=args.device, strategy=args.strategy)
    data, batch_size = (x, y), args.batch_size
    trainer.fit((x[:4096], y[:4096]), epochs=1, batch_size=batch_size, verbose=0)  # warm-up
    times = []
    for _ in range(args.repeats):  # the best of a few: other work on the machine only slows
        start = clock(trainer.device)
        trainer.fit(data, epochs=args.epochs, batch_size=batch_size, verbose=0)
        times.append(clock(trainer.device) - start)
    elapsed = min(times)
    if trainer.processes is None or trainer.processes.is_main:
        processes = 1 if trainer.processes is None else trainer.processes.world_size
        rate = len(x) * args.epochs / elapsed
        print(json.dumps({"processes": processes, "samples_per_second": rate, "seconds": elapsed}))


def clock(device: torch.device) -> float:
    """The time once every process (and the GPU) has finished its work."""
    if dist.is_initialized():
        dist.barrier()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def measure(count: int, args: argparse.Namespace) -> dict:
    """Run the worker in ``count`` fresh processes; the main one's figures."""
    environment = dict(os.environ)
    environment["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // count))
    own = [__file__, "--worker", *sys.argv[1:]]
    if count == 1:
        command = [sys.executable, *own]
    else:
        launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={count}"]
        command = [sys.executable, *launcher, *own]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(f"{count} process(es) failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="(1 2)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="(cpu)")
    parser.add_argument("--strategy", default="ddp", choices=["ddp", "fsdp"], help="(ddp)")
    parser.add_argument("--samples", type=int, default=60000, help="training images (60000)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timing (2)")
    parser.add_argument("--repeats", type=int, default=3, help="timings; the best counts (3)")
    parser.add_argument("--batch-size", type=int, default=256, help="the global batch (256)")
    parser.add_argument("--hidden", type=int, default=512, help="hidden units (512)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    load = os.getloadavg()[0]
    print(f"{args.device}, {args.strategy}, {args.samples} samples x {args.epochs} epochs,")
    print(f"global batch {args.batch_size}, {os.cpu_count()} cores, load {load:.2f} at start")
    print(f"{'processes':>9}  {'samples/s':>10}  {'seconds':>8}  {'speed-up':>8}")
    first = None
    for count in args.processes:
        result = measure(count, args)
        first = first or result["samples_per_second"]
        speedup = result["samples_per_second"] / first
        print(
            f"{count:>9}  {result['samples_per_second']:>10.0f}  {result['seconds']:>8.2f}  "
            f"{speedup:>7.2f}x"
        )
    print(f"load {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
