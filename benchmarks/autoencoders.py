"""The autoencoder and VAE recipes at their default settings: metrics and wall time vs targets.

Each recipe runs exactly as ``ember train NAME`` would (same code path, a run folder under
``--root``), one after another. ``anomaly-autoencoder`` runs once per held-out class (0-9) and
counts the classes whose ROC-AUC reaches 0.80 (issue #5 asks for at least 7 of 10). ``vae`` runs
on MNIST (the target) and, with ``--fashion``, on Fashion-MNIST too (reported, no target); with
``--reference`` also as pytorch/examples trains it (784-400-20, constant Adam 1e-3, all 60,000
training images), the number to beat.

    python benchmarks/autoencoders.py                              # every recipe
    python benchmarks/autoencoders.py --recipes vae --fashion      # the VAE on both datasets
    python benchmarks/autoencoders.py --recipes vae --reference    # and pytorch/examples' setup
    python benchmarks/autoencoders.py --recipes anomaly-autoencoder --held-out 1 7
    python benchmarks/autoencoders.py --set train_samples=2000 --set epochs=1   # a quick try
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch

from ember import recipes
from ember.recipes.config import apply_overrides
from ember.runs import training

TIME_LIMIT = 600  # seconds per run on the 2-core CPU machine (issue #5)
# recipe -> (metric, comparison, target) from issue #5
TARGETS = {
    "autoencoder": ("loss", None, None),
    "denoising-autoencoder": ("psnr_gain", ">=", 6.0),
    "anomaly-autoencoder": ("roc_auc", ">=", 0.80),
    "vae": ("loss", "<=", 104.0),
}
SHOWN = {  # the metrics printed for each recipe
    "autoencoder": ("loss",),
    "denoising-autoencoder": ("psnr_noisy", "psnr_denoised", "psnr_gain"),
    "anomaly-autoencoder": ("roc_auc", "score_normal", "score_held_out"),
    "vae": ("loss", "reconstruction", "kl"),
}
ANOMALY_CLASSES_NEEDED = 7
# pytorch/examples' VAE: the same model and loss, 400 hidden units, Adam at a constant 1e-3.
VAE_REFERENCE = ["hidden=400", "schedule=constant", "learning_rate=0.001", "validation_size=0"]


def run(name: str, root: Path, overrides: list[str]) -> dict:
    """Train ``name`` as ``ember train NAME --set ...`` would; return its test metrics and time."""
    recipe = recipes.get(name)
    config = apply_overrides(recipe.config(), overrides, recipe=name)
    start = time.perf_counter()
    result = training.train(recipe, config, root=root, verbose=0)
    return {**result.test, "seconds": time.perf_counter() - start, "run": result.run_dir}


def verdict(name: str, metrics: dict, with_target: bool = True) -> str:
    """``met`` / ``NOT met`` for the metric target (if ``with_target``) and the time limit."""
    metric, comparison, target = TARGETS[name]
    checks = []
    if target is not None and with_target:
        value = metrics[metric]
        met = value >= target if comparison == ">=" else value <= target
        checks.append(f"{metric} {comparison} {target:g}: {'met' if met else 'NOT met'}")
    seconds = metrics["seconds"]
    checks.append(f"≤ {TIME_LIMIT} s: {'met' if seconds <= TIME_LIMIT else 'NOT met'}")
    return "; ".join(checks)


def describe(name: str, metrics: dict, with_target: bool) -> str:
    shown = ", ".join(f"{key} {metrics[key]:.4g}" for key in SHOWN[name])
    return f"{shown} in {metrics['seconds']:.0f} s — {verdict(name, metrics, with_target)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=list(TARGETS))
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--held-out", nargs="*", type=int, default=list(range(10)))
    parser.add_argument("--fashion", action="store_true", help="also run vae on Fashion-MNIST")
    parser.add_argument(
        "--reference", action="store_true", help="also run vae as pytorch/examples trains it"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override every run"
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    rows = []
    for name in args.recipes:
        if name not in TARGETS:
            parser.error(f"unknown recipe {name!r}; choose from {', '.join(TARGETS)}")
        variants = [[]]
        if name == "anomaly-autoencoder":
            variants = [[f"held_out={held_out}"] for held_out in args.held_out]
        elif name == "vae":
            variants += [["dataset=fashion_mnist"]] if args.fashion else []
            variants += [VAE_REFERENCE] if args.reference else []
        for extra in variants:
            metrics = run(name, args.root, [*args.set, *extra])
            label = " ".join([name, *extra])
            with_target = name != "vae" or not extra  # the VAE's target is on MNIST, ours
            rows.append((label, name, metrics, with_target))
            print(f"{label}: {describe(name, metrics, with_target)}", flush=True)
    print("\n| run | metrics | target |")
    print("|---|---|---|")
    for label, name, metrics, with_target in rows:
        shown = ", ".join(f"{key} {metrics[key]:.4g}" for key in SHOWN[name])
        print(
            f"| {label} | {shown}, {metrics['seconds']:.0f} s "
            f"| {verdict(name, metrics, with_target)} |"
        )
    aucs = [m["roc_auc"] for _, name, m, _ in rows if name == "anomaly-autoencoder"]
    if aucs:
        reached = sum(1 for auc in aucs if not math.isnan(auc) and auc >= 0.80)
        total = sum(m["seconds"] for _, name, m, _ in rows if name == "anomaly-autoencoder")
        met = "met" if reached >= ANOMALY_CLASSES_NEEDED else "NOT met"
        print(
            f"\nanomaly-autoencoder: ROC-AUC ≥ 0.80 for {reached} of {len(aucs)} held-out classes "
            f"(target ≥ {ANOMALY_CLASSES_NEEDED} of 10: {met}); sweep took {total:.0f} s"
        )


if __name__ == "__main__":
    main()
