"""Does a tuned fashion-mlp beat the default one, and how much time does pruning save?

Issue #22's target: on ``fashion-mlp``, a 20-trial TPE search with pruning beats the default
config's validation accuracy, and pruning cuts the search's wall time by at least 30% against the
same search unpruned (same seed, same sampler). Three measurements, one after the other, each
trial and the default run trained for ``--epochs`` epochs on the same data split:

1. the default config (the recipe's settings, ``--epochs`` epochs);
2. a TPE search over learning rate, hidden units, dropout and batch size, median pruner;
3. the same search without pruning.

    python benchmarks/tune.py               # ~15-20 minutes on 2 idle cores (4 s per epoch at batch 32)
    python benchmarks/tune.py --trials 3 --epochs 1 --train-samples 2000   # a quick check

Each search is an ordinary ``ember tune`` folder under ``--out`` (with its report.html). Wall
times include everything a search does (building the recipe once, every trial's run, its test
evaluation and report, the search's report). Other processes slow it down: the load average is
printed before and after.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

import ember
from ember import recipes
from ember.runs import training

SPACE = {
    "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
    "hidden_units": {"low": 32, "high": 512, "log": True},
    "dropout": {"low": 0.0, "high": 0.5},
    "batch_size": {"choices": [32, 64, 128, 256]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8, help="per trial and for the default")
    parser.add_argument("--seed", type=int, default=0, help="the sampler's seed")
    parser.add_argument("--train-samples", type=int, help="a stratified subset (default: all)")
    parser.add_argument("--out", type=Path, help="default: runs/benchmark-tune-<time>")
    args = parser.parse_args()
    out = args.out or Path("runs") / f"benchmark-tune-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists():
        parser.error(f"--out {out} exists; a benchmark starts from nothing. Pass a new folder.")
    recipe = recipes.get("fashion-mlp")
    config = recipe.config(
        epochs=args.epochs, train_samples=args.train_samples, device="cpu", feature_maps=()
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}")

    start = time.perf_counter()
    default = training.train(recipe, config, out=out / "default", verbose=0)
    rows = [("default config", 1, "", "", default.last_epoch["val_accuracy"])]
    times = [time.perf_counter() - start]
    for name, pruner in (("TPE + median pruner", "median"), ("TPE, no pruning", "none")):
        start = time.perf_counter()
        result = ember.tune(
            recipe,
            SPACE,
            trials=args.trials,
            sampler="tpe",
            pruner=pruner,
            seed=args.seed,
            config=config,
            out=out / pruner,
        )
        times.append(time.perf_counter() - start)
        counts = result.counts()
        rows.append(
            (
                name,
                len(result.study.trials),
                counts.get("COMPLETE", 0),
                counts.get("PRUNED", 0),
                result.best_value,
            )  # fmt: skip
        )
        print(f"{name}: best {result.best_params}; report {result.report}")

    print(f"load average at end (1, 5, 15 min): {os.getloadavg()}\n")
    print(f"{'':22} {'trials':>6} {'complete':>8} {'pruned':>6} {'best val_accuracy':>17} "
          f"{'wall time':>10}")  # fmt: skip
    for (name, trials, complete, pruned, best), seconds in zip(rows, times):
        print(
            f"{name:22} {trials:>6} {complete!s:>8} {pruned!s:>6} {best:>17.4f} "
            f"{seconds / 60:>8.1f} min"
        )
    saved = 1 - times[1] / times[2]
    gain = rows[1][4] - rows[0][4]
    print(
        f"\npruning saves {saved:.0%} of the unpruned search's wall time (target >= 30%: "
        f"{'met' if saved >= 0.3 else 'not met'}); the pruned search's best is {gain:+.4f} "
        f"against the default config (target > 0: {'met' if gain > 0 else 'not met'})."
    )


if __name__ == "__main__":
    main()
