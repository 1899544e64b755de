"""The agent recipes at their default settings: test scores and wall time against issue #18's targets.

Each recipe runs exactly as ``ember train NAME --seed S`` would (a run folder under ``--root``),
and its test evaluation (greedy episodes from held-out starting states, with the run's ``best``
network) is compared with its target.

    python benchmarks/agents.py                                      # both, seed 0
    python benchmarks/agents.py --recipes q-learning-frozenlake --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ember import recipes
from ember.runs import training

# name -> (the test metric, its minimum): CleanRL's DQN reaches -91.5 on Acrobot-v1; the optimal
# policy on the slippery 4x4 FrozenLake succeeds about 74-82% of the time.
TARGETS = {
    "dqn-acrobot": ("mean_return", -100.0),
    "q-learning-frozenlake": ("success_rate", 0.7),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=list(TARGETS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks"))
    args = parser.parse_args()
    rows = []
    for name in args.recipes:
        metric, minimum = TARGETS[name]
        recipe = recipes.get(name)
        for seed in args.seeds:
            start = time.perf_counter()
            result = training.train(recipe, recipe.config(seed=seed), root=args.root, verbose=0)
            seconds = time.perf_counter() - start
            value = result.test[metric]
            verdict = "met" if value >= minimum else "NOT met"
            rows.append((name, seed, metric, value, minimum, verdict, seconds, result.run_dir))
            print(
                f"{name} seed {seed}: {metric} {value:.3f} (target ≥ {minimum:g}: {verdict}), "
                f"{seconds:.0f} s, {result.run_dir}",
                flush=True,
            )
    print()
    print(f"{'recipe':24} {'seed':>4} {'metric':>14} {'value':>9} {'target':>7} {'':8} {'s':>6}")
    for name, seed, metric, value, minimum, verdict, seconds, _ in rows:
        print(
            f"{name:24} {seed:>4} {metric:>14} {value:>9.3f} {minimum:>7g} {verdict:8} "
            f"{seconds:>6.0f}"
        )


if __name__ == "__main__":
    main()
