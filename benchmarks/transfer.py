"""Transfer learning against learning from scratch, several seeds each: mean ± std test accuracy.

Two studies, each one command (runs are ordinary run folders under ``--root``):

    python benchmarks/transfer.py vgg16       # transfer-vgg16: HED's VGG16 vs the same network
                                               # from scratch vs fashion-cnn, 1,000 labels
    python benchmarks/transfer.py in-domain   # transfer-in-domain: features vs fine-tuning vs
                                               # scratch at 100, 300 and 1,000 labels per class
    python benchmarks/transfer.py in-domain --labels 100 --seeds 0   # a quicker look

``in-domain`` pretrains once per seed (the fine-tuning run at the first label count does it)
and starts the other runs of that seed from its ``pretrained-backbone.safetensors``. It draws
test accuracy against the number of labels per class into ``--plot``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ember import recipes
from ember.plots.figure import new_figure, save_figure
from ember.recipes.transfer_in_domain import BACKBONE_FILE
from ember.runs import training

# name shown -> (recipe, settings): the transfer-vgg16 study, all on the same 1,000 images.
VGG16_VARIANTS = {
    "VGG16, HED weights (transfer)": ("transfer-vgg16", {}),
    # As many passes as the transfer run's two steps together (head_epochs + epochs).
    "VGG16 from scratch": ("transfer-vgg16", {"pretrained": "none", "epochs": 20}),
    "fashion-cnn": ("fashion-cnn", {"train_samples": 1000, "validation_size": 0.0}),
}
METHODS = ("features", "fine_tune", "scratch")


def run(name: str, settings: dict, seed: int, root: Path) -> tuple[float, float, Path]:
    """(test accuracy, seconds, run folder) of one run of recipe ``name``."""
    recipe = recipes.get(name)
    config = recipe.config(seed=seed, **settings)
    start = time.perf_counter()
    result = training.train(recipe, config, root=root, verbose=0)
    return result.test["accuracy"], time.perf_counter() - start, result.run_dir


def summary(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def vgg16_study(seeds: list[int], root: Path) -> None:
    print("| variant | test accuracy (mean ± std) | seconds per run |\n|---|---|---|")
    for label, (name, settings) in VGG16_VARIANTS.items():
        accuracies, seconds = [], []
        for seed in seeds:
            accuracy, took, _ = run(name, settings, seed, root)
            accuracies.append(accuracy)
            seconds.append(took)
        print(f"| {label} | {summary(accuracies)} | {statistics.mean(seconds):.0f} |", flush=True)


def in_domain_study(seeds: list[int], labels: list[int], root: Path, plot: Path) -> None:
    results: dict[tuple[str, int], list[float]] = {}
    for seed in seeds:
        backbone = None
        for count in labels:
            for method in ("fine_tune", "features", "scratch"):  # fine_tune first: it pretrains
                settings: dict = {"method": method, "labels_per_class": count}
                if backbone is not None and method != "scratch":
                    settings["backbone"] = str(backbone)
                accuracy, took, run_dir = run("transfer-in-domain", settings, seed, root)
                if backbone is None and method == "fine_tune":
                    backbone = run_dir / BACKBONE_FILE
                results.setdefault((method, count), []).append(accuracy)
                print(
                    f"seed {seed} {method:9} {count:5} labels/class: {accuracy:.4f} ({took:.0f} s)"
                )
    print("\n| labels per class | " + " | ".join(METHODS) + " |\n|---|---|---|---|")
    for count in labels:
        cells = [summary(results[method, count]) for method in METHODS]
        print(f"| {count} | " + " | ".join(cells) + " |")
    figure = new_figure(6, 4)
    axes = figure.add_subplot()
    for method in METHODS:
        means = [statistics.mean(results[method, count]) for count in labels]
        spreads = [
            statistics.stdev(results[method, count]) if len(seeds) > 1 else 0.0 for count in labels
        ]
        axes.errorbar(labels, means, yerr=spreads, marker="o", capsize=3, label=method)
    axes.set_xscale("log")
    axes.set_xticks(labels, [str(count) for count in labels])
    axes.set_xticks([], minor=True)  # no "2x10^2" between the label counts
    axes.set_xlabel("labelled images per class (classes 5-9)")
    axes.set_ylabel("test accuracy")
    axes.set_title(f"transfer-in-domain: pretrained on classes 0-4 ({len(seeds)} seeds)")
    axes.legend()
    save_figure(figure, plot)
    print(f"\nplot: {plot}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=["vgg16", "in-domain"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks/transfer"))
    parser.add_argument("--plot", type=Path, default=Path("docs/images/transfer-in-domain.png"))
    args = parser.parse_args()
    if args.study == "vgg16":
        vgg16_study(args.seeds, args.root)
    else:
        in_domain_study(args.seeds, args.labels, args.root, args.plot)


if __name__ == "__main__":
    main()
