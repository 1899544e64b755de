"""``ember tune``: a hyperparameter search of a recipe (:func:`ember.tune`), summed up in a table.

ember tune fashion-mlp --space space.yaml --trials 20 --set epochs=5
ember tune fashion-mlp --space grid.yaml --sampler grid --pruner none
ember tune fashion-mlp --space space.yaml --trials 40 --workers 2 --out runs/tune-mlp
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ember.errors import ConfigError
from ember.recipes import Recipe
from ember.recipes.config import as_set_text
from ember.tune import TuneResult, tune


def run(args: argparse.Namespace, recipe: Recipe, config: Any, console: Console) -> int:
    """Search ``recipe`` around ``config`` (its ``--set`` values applied) as ``args`` say."""
    if args.space is None:  # not required by argparse, so that `ember tune RECIPE --help` works
        raise ConfigError(
            "ember tune needs a search space, received none. Fix: pass --space space.yaml, a "
            "YAML file of config keys and what to try, e.g. `dropout: [0.1, 0.3]`."
        )
    result = tune(
        recipe,
        args.space,
        trials=args.trials,
        sampler=args.sampler,
        pruner=args.pruner,
        storage=args.storage,
        study_name=args.study,
        workers=args.workers,
        out=args.out,
        seed=args.seed,
        metric=args.metric,
        direction=args.direction,
        config=config,
        heartbeat=args.heartbeat,
    )
    console.print(summary(result), highlight=False)
    console.print(f"report: {result.report}", highlight=False)
    return 0


def summary(result: TuneResult) -> Table:
    """The search's outcome: trial counts, then the best trial's settings and value."""
    counts = ", ".join(f"{n} {state.lower()}" for state, n in result.counts().items())
    table = Table(title=f"{result.folder} · {counts}", title_justify="left")
    table.add_column("setting")
    table.add_column("best value", justify="right")
    trial = result.best_trial
    if trial is None:
        table.add_row(Text("no trial has completed yet"), "")
        return table
    for name, value in trial.params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else as_set_text(value)
        table.add_row(Text(name), shown)
    table.add_row(Text(f"{result.metric} (trial {trial.number})"), f"{trial.value:.4f}")
    table.add_row(Text("run"), Text(str(result.best_run)))
    return table


__all__ = ["run", "summary"]
