"""Hyperparameter search on Optuna: ``ember.tune(recipe, space, trials=...)`` and ``ember tune``.

Every trial is an ordinary ember run (its folder, metrics log, checkpoints and report) whose
per-epoch validation metric feeds Optuna's pruner; the study lives in an Optuna RDB storage
(SQLite in the tune folder by default, PostgreSQL or any SQLAlchemy URL to share it between
machines), so a search resumes after any interruption and several workers can share it.
Samplers (TPE, random, grid), pruners (median, Hyperband), importances and plots are Optuna's.

Example:
    >>> from ember import recipes
    >>> recipe = recipes.get("fashion-mlp")
    >>> space = read_space({"learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}},
    ...                    recipe, recipe.config())
    >>> space.distributions["learning_rate"]
    FloatDistribution(high=0.01, log=True, low=0.0001, step=None)
"""

from ember.tune.objective import Objective, ReportToTrial
from ember.tune.report import render_tune_report
from ember.tune.space import SearchSpace, read_space
from ember.tune.study import TuneResult, tune

__all__ = [
    "Objective",
    "ReportToTrial",
    "SearchSpace",
    "TuneResult",
    "read_space",
    "render_tune_report",
    "tune",
]
