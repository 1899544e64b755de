"""Rebuild what a run trained, from its folder: the recipe's experiment or agent, seeded, and
the checkpoint whose weights go into it (for ``ember evaluate``, ``predict``, ``play``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ember.errors import RunError
from ember.runs import rundir
from ember.runs.checkpoint import Checkpoint, load_checkpoint
from ember.seeding import set_seed


def rebuild_run(run_dir: Path, which: str = "last") -> tuple[Path, str, Any, Checkpoint]:
    """``(run, recipe name, what the recipe builds, checkpoint which)``; an error if the run has
    no such checkpoint yet. The build is seeded with the run's seed, as training was."""
    run = rundir.check_run(run_dir)
    recipe, config = rundir.read_config(run)
    checkpoint = load_checkpoint(run, which)
    if checkpoint is None:
        raise RunError(
            f"{run} has no {which} checkpoint yet (it stopped before its first epoch ended). "
            f"Fix: continue it with `ember resume {run}`."
        )
    set_seed(config.seed)
    return run, recipe.name, recipe.build(config), checkpoint
