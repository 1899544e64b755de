"""Runs: a training run as a folder — config, metrics log, checkpoints, report — resumable exactly.

``train(recipe, config)`` starts one, ``resume(run)`` continues it, ``evaluate(run)`` scores it,
``render_report(run)`` draws its report and ``compare_runs(runs, png)`` sets several side by side.
The ``ember`` command is a thin layer over these.
"""

from ember.runs.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from ember.runs.compare import compare_runs
from ember.runs.report import render_report
from ember.runs.rundir import check_run, is_run
from ember.runs.training import RunResult, evaluate, load_experiment, resume, train

__all__ = [
    "Checkpoint",
    "RunResult",
    "check_run",
    "compare_runs",
    "evaluate",
    "is_run",
    "load_checkpoint",
    "load_experiment",
    "render_report",
    "resume",
    "save_checkpoint",
    "train",
]
