"""The image-classification recipes at their default settings: test accuracy and wall time vs targets.

Each recipe runs exactly as ``ember train NAME`` would (same code path, a run folder under
``--root``), one after another, and the table compares each with its target from issue #3.

    python benchmarks/recipes.py                          # every recipe
    python benchmarks/recipes.py --recipes fashion-mlp    # one
    python benchmarks/recipes.py --recipes mnist-mlp --repeat   # same seed twice: same metrics?
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ember import recipes
from ember.runs import load_checkpoint, training

# name -> (minimum test accuracy, time limit in seconds on the 2-core CPU machine)
TARGETS = {
    "fashion-mlp": (0.890, None),
    "fashion-cnn": (0.920, None),
    "fashion-resnet": (0.945, 600),  # issue #17 (issue #3: 0.935)
    "mnist-mlp": (None, None),
    "mnist-cnn": (0.992, None),
}


def run(name: str, root: Path, seed: int) -> dict:
    recipe = recipes.get(name)
    config = recipe.config(seed=seed)
    start = time.perf_counter()
    result = training.train(recipe, config, root=root, verbose=0)
    seconds = time.perf_counter() - start
    return {
        "recipe": name,
        "run": result.run_dir,
        "epochs": result.epochs_done,
        "accuracy": result.test["accuracy"],
        "seconds": seconds,
    }


def verdict(name: str, accuracy: float, seconds: float) -> str:
    minimum, limit = TARGETS.get(name, (None, None))
    checks = []
    if minimum is not None:
        checks.append(f"acc ≥ {minimum:.3f}: {'met' if accuracy >= minimum else 'NOT met'}")
    if limit is not None:
        checks.append(f"≤ {limit} s: {'met' if seconds <= limit else 'NOT met'}")
    return "; ".join(checks) or "no target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=list(TARGETS))
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat", action="store_true", help="run each recipe twice and compare the final weights"
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = []
    for name in args.recipes:
        row = run(name, args.root, args.seed)
        if args.repeat:
            again = run(name, args.root, args.seed)
            first, second = load_checkpoint(row["run"]), load_checkpoint(again["run"])
            row["repeat"] = (
                "bitwise identical"
                if all(torch.equal(first.weights[k], second.weights[k]) for k in first.weights)
                and again["accuracy"] == row["accuracy"]
                else "DIFFERENT"
            )
        rows.append(row)
        print(
            f"{name}: test accuracy {row['accuracy']:.4f} in {row['seconds']:.0f} s "
            f"({row['epochs']} epochs) — {verdict(name, row['accuracy'], row['seconds'])}"
            + (f" — repeat: {row['repeat']}" if args.repeat else ""),
            flush=True,
        )
    print("\n| recipe | epochs | test accuracy | wall time | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['recipe']} | {row['epochs']} | {row['accuracy']:.4f} | {row['seconds']:.0f} s "
            f"| {verdict(row['recipe'], row['accuracy'], row['seconds'])} |"
        )


if __name__ == "__main__":
    main()
