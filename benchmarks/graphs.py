"""GCN, GAT and the no-graph MLP side by side on the karate club: test accuracy over seeds.

Each seed draws its own split (``train_per_class`` members per club to train on,
``validation_per_class`` to validate on, the rest to test on; the same split for the three
models) and its own initial weights; each model trains as ``ember train gnn-karate[-gat|-mlp]``
does (same config, same engine) and is scored on the test members with its last weights, as a
run's report is. Prints accuracy mean +- std (population) over the seeds, and the time per fit.

    python benchmarks/graphs.py                          # identity features, 10 seeds
    python benchmarks/graphs.py --features identity degree --seeds 10
    python benchmarks/graphs.py --set train_per_class=1 --set validation_per_class=0
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from ember import recipes
from ember.recipes.config import apply_overrides
from ember.seeding import set_seed

RECIPES = ("gnn-karate", "gnn-karate-gat", "gnn-karate-mlp")


def test_accuracy(recipe: recipes.Recipe, config: object) -> float:
    """Train ``recipe`` with ``config`` as a run does (without its folder); test accuracy."""
    set_seed(config.seed)
    experiment = recipe.build(config)
    validation = experiment.batches("val") if experiment.data.val is not None else None
    experiment.trainer.fit(
        experiment.batches("train", shuffle=True), validation, epochs=config.epochs, verbose=0
    )
    x, y = experiment.data.test
    return float((experiment.probabilities(x).argmax(-1) == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", nargs="+", default=["identity"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {load:.2f}")
    print(f"{'features':10} {'model':16} {'test accuracy':>18} {'min':>6} {'max':>6} {'s/fit':>6}")
    for features in args.features:
        for name in RECIPES:
            recipe = recipes.get(name)
            base = apply_overrides(recipe.config(device="cpu", features=features), args.set)
            recipe.check(base)
            scores, start = [], time.perf_counter()
            for seed in range(args.seeds):
                config = apply_overrides(base, [f"seed={seed}"])
                scores.append(test_accuracy(recipe, config))
            seconds = (time.perf_counter() - start) / args.seeds
            mean, spread = statistics.mean(scores), statistics.pstdev(scores)
            print(
                f"{features:10} {name:16} {mean:>9.3f} +- {spread:.3f} {min(scores):>6.3f} "
                f"{max(scores):>6.3f} {seconds:>6.2f}"
            )
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
