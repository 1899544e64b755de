"""Networks on real tables against gradient boosting, on the same splits (issue #23).

For each seed, each recipe's table is split the way the recipe splits it (training, validation,
test rows drawn with that seed). On the same training rows, scikit-learn's
``HistGradientBoosting`` (defaults, native categorical support) and each ember network
(``mlp``: embeddings + MLP; ``ft_transformer``) are fitted; all are scored on the same test rows.

- ``tabular-credit`` (credit_data, good/bad loan status): test accuracy. Target: the network within
  1 point of boosting.
- ``tabular-ames`` (house prices, learned as log price): test RMSE of the log price. Target: the
  network's error within 5% of boosting's.

    python benchmarks/tabular.py                  # 5 seeds, both recipes, both networks (~10 min)
    python benchmarks/tabular.py --seeds 1 --models mlp --epochs 5   # a quick check

Networks train for the recipe's epochs with its settings (the last epoch's weights are scored, as
a run's test column is). The load average is printed before and after: timings are comparable
within one run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import torch

from ember import recipes
from ember.recipes import tabular as tabular_recipe

TARGETS = {  # recipe -> (metric, higher is better, how close the network must come)
    "tabular-credit": ("accuracy", True, "within 1 point"),
    "tabular-ames": ("log_rmse", False, "within 5% of the error"),
}


def score_network(name: str, seed: int, model: str, epochs: int | None) -> tuple[float, float]:
    """(test score, seconds) of the recipe's network trained on the seed's split."""
    recipe = recipes.get(name)
    fields = {"seed": seed, "model": model, "device": "cpu"}
    config = recipe.config(**fields, **({"epochs": epochs} if epochs else {}))
    torch.manual_seed(seed)
    start = time.perf_counter()
    experiment = recipe.build(config)
    experiment.trainer.fit(
        experiment.batches("train", shuffle=True),
        experiment.batches("val"),
        epochs=config.epochs,
        verbose=0,
    )
    data = experiment.data
    x, y = data.split("test")
    if TARGETS[name][0] == "accuracy":
        predicted = experiment.probabilities(x).argmax(1)
        score = float((predicted == y).float().mean())
    else:
        with torch.inference_mode():
            output = experiment.network.eval()(x)
        errors = np.log(data.values(output)) - np.log(data.raw_targets["test"])
        score = float(np.sqrt(np.mean(errors**2)))
    return score, time.perf_counter() - start


def score_boosting(name: str, seed: int) -> tuple[float, float]:
    """(test score, seconds) of HistGradientBoosting on the same split."""
    recipe = recipes.get(name)
    config = recipe.config(seed=seed, device="cpu")
    data = tabular_recipe.prepare(config)
    start = time.perf_counter()
    task = "classification" if TARGETS[name][0] == "accuracy" else "regression"
    boosting = tabular_recipe.fit_boosting(data, task, seed)
    predicted = boosting.predict(tabular_recipe.boosting_inputs(data.frames["test"]))
    truth = data.raw_targets["test"]
    if task == "classification":
        score = float(np.mean(predicted == truth))
    else:  # the recipe's boosting learns log(price) as the network does: compare logs
        score = float(np.sqrt(np.mean((predicted - np.log(truth)) ** 2)))
    return score, time.perf_counter() - start


def summary(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} +- {spread:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="splits per recipe")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=3,
        help="the first split's seed (3: the recipes' settings were chosen on splits 0-2)",
    )
    parser.add_argument("--models", default="mlp,ft_transformer")
    parser.add_argument("--recipes", default="tabular-credit,tabular-ames")
    parser.add_argument("--epochs", type=int, help="override the recipes' epochs (quick checks)")
    args = parser.parse_args()
    # Each split's validation and test rows hold a few values its training rows lack; the
    # preprocessor says so once per column and codes them "unknown", as it should.
    warnings.filterwarnings("ignore", "column .* hold values not seen in training")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}")
    for name in args.recipes.split(","):
        metric, higher, target = TARGETS[name]
        results: dict[str, list[tuple[float, float]]] = {"boosting": []}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            results["boosting"].append(score_boosting(name, seed))
            for model in args.models.split(","):
                results.setdefault(model, []).append(score_network(name, seed, model, args.epochs))
        boosting = [score for score, _ in results["boosting"]]
        print(f"\n{name}: test {metric} over {args.seeds} splits (target: {target} of boosting)")
        print(f"{'model':<16}{metric:>20}{'vs boosting':>16}{'seconds':>10}")
        for model, pairs in results.items():
            scores = [score for score, _ in pairs]
            if model == "boosting":
                versus = ""
            elif higher:
                versus = f"{100 * (statistics.mean(scores) - statistics.mean(boosting)):+.2f} pt"
            else:
                versus = f"{100 * (statistics.mean(scores) / statistics.mean(boosting) - 1):+.1f}%"
            seconds = statistics.mean(t for _, t in pairs)
            print(f"{model:<16}{summary(scores):>20}{versus:>16}{seconds:>10.1f}")
    print(f"\nload average at end (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
