"""int8 against float32 for a classifier run: every method of ``ember quantize``, side by side.

For each method (static, dynamic, qat) this runs ``ember.deploy.quantize_run`` into a temporary
folder and prints its table: PyTorch eager float32, inductor float32 and int8, ONNX Runtime
float32 and static int8, at batch 1 and 64 (median of 50 calls after a 0.5 s warm-up, threads
pinned to torch's count), file sizes and test accuracy. Then it checks issue #19's targets.

    python benchmarks/quantize.py runs/fashion-cnn-...             # all three methods
    python benchmarks/quantize.py RUN --methods static --repeats 3  # static, three times
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from ember.deploy import quantize_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--methods", nargs="+", default=["static", "dynamic", "qat"])
    parser.add_argument("--repeats", type=int, default=1, help="measure each method this often")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"run {args.run}, {args.threads} threads, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as scratch:
        for method in args.methods:
            for repeat in range(args.repeats):
                out = Path(scratch) / f"{method}-{repeat}"
                result = quantize_run(args.run, method, out=out, verbose=0)
                print(f"\n== {method} (repeat {repeat + 1})")
                print(result.table)
                print(f"use: {result.advice}")
                check(result.comparison)


def check(rows: list) -> None:
    """Issue #19's targets for this table."""
    by_name = {row.name: row for row in rows}
    eager, int8 = by_name["torch fp32"], [r for r in rows if r.name.endswith("int8")]
    onnx = by_name.get("onnx fp32")
    best_1 = min(int8, key=lambda r: r.latency_ms[1])
    best_64 = min(int8, key=lambda r: r.latency_ms[64])
    same = {"inductor int8": by_name["inductor fp32"], "onnx int8": onnx}
    sizes = [r for r in int8 if r.size_bytes]
    lines = [
        ("best int8 vs eager, batch 1 (>= 3x)", eager.latency_ms[1] / best_1.latency_ms[1]),
        ("best int8 vs eager, batch 64 (>= 4x)", eager.latency_ms[64] / best_64.latency_ms[64]),
    ]
    for row in int8:
        reference = same.get(row.name)
        if reference is not None:
            ratio = reference.latency_ms[64] / row.latency_ms[64]
            lines.append((f"{row.name} vs its fp32, batch 64 (>= 2x)", ratio))
    if onnx is not None and sizes:
        lines.append(
            (
                "fp32 ONNX / smallest int8 file (>= 3.5x)",
                onnx.size_bytes / min(r.size_bytes for r in sizes),
            )
        )
    worst = max(eager.accuracy - r.accuracy for r in int8)
    for label, value in lines:
        print(f"  {label}: {value:.2f}x")
    print(f"  largest accuracy drop (<= 0.5 points): {100 * worst:+.2f} points")


if __name__ == "__main__":
    main()
