"""Train a recipe as a run, resume a stopped one, and evaluate a run's network.

``train`` and ``resume`` share one path: seed, build the recipe's experiment, attach the run's
callbacks (metrics log, checkpoints, TensorBoard), fit from the checkpoint's epoch, evaluate on
the test split, write the report. A resumed run restores every random number generator, so it
ends bit for bit where the uninterrupted run would have.

Example (a tiny run; ``ember train`` does the same from the command line):
    >>> import tempfile, pathlib
    >>> from ember import recipes
    >>> from ember.runs import training
    >>> recipe = recipes.get("fashion-mlp")
    >>> config = recipe.config(epochs=1, train_samples=600, hidden_units=8)
    >>> run = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> result = training.train(recipe, config, out=run, verbose=0)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ember.callbacks import TensorBoard
from ember.errors import RunError
from ember.recipes import Recipe
from ember.recipes.experiment import Experiment
from ember.rl import Agent
from ember.runs import metrics_log, rundir
from ember.runs.agent_training import run_agent
from ember.runs.checkpoint import Checkpoint, load_checkpoint
from ember.runs.evaluation import evaluate_split, save_evaluation, save_feature_maps
from ember.runs.explanations import save_explanations
from ember.runs.interrupts import stop_on_ctrl_c
from ember.runs.rebuild import rebuild_run
from ember.runs.report import REPORT_FILE, render_report
from ember.runs.results import RunResult
from ember.runs.run_callbacks import Checkpointer, RunLog
from ember.saving import check_compatible
from ember.seeding import set_seed
from ember.train.callback import Callback
from ember.train.distributed import barrier, from_main_process, is_main_process, torchrun_launch
from ember.train.lazy_layers import build_module, has_unbuilt_layers

_EVALUATION_KEYS = ("kind", "split", "epoch", "checkpoint")


def train(
    recipe: Recipe,
    config: Any,
    *,
    out: Path | None = None,
    root: Path = Path("runs"),
    verbose: int = 1,
    callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Start a new run of ``recipe`` with ``config`` in a new folder (``out`` or ``root/...``).

    ``callbacks`` run after the run's own (metrics log, checkpoints), so an epoch is logged and
    checkpointed before they see it; one may stop the run cleanly with ``stop_training``.
    """
    config = rundir.resolve_config(config)
    if is_main_process():  # on several processes, the main one alone writes the run folder
        rundir.check_new_run_dir(out)
    # Build first: a bad setting or a missing dataset fails before anything is written.
    set_seed(config.seed)
    experiment = _one_process_for_agents(recipe.build(config))
    run = from_main_process(lambda: rundir.new_run_dir(recipe.name, out, root))  # one for all
    if is_main_process():
        rundir.write_config(run, recipe.name, config)
    return _run(run, experiment, config, None, verbose, callbacks)


def resume(run_dir: Path, *, verbose: int = 1) -> RunResult:
    """Continue ``run_dir`` from its last checkpoint (from the start if it has none yet)."""
    run = rundir.check_run(run_dir)
    recipe, config = rundir.read_config(run)
    checkpoint = load_checkpoint(run)
    if checkpoint is not None and checkpoint.epoch >= config.epochs:
        log_path = run / metrics_log.METRICS_FILE
        records = metrics_log.read(log_path)
        if any(r.get("kind") == "evaluation" for r in records):
            report = run / REPORT_FILE
            if not report.is_file() or report.stat().st_mtime < log_path.stat().st_mtime:
                # killed after the test evaluation but before the report: finish the report only
                if verbose:
                    print(
                        f"{run} finished every epoch and its test evaluation; writing its report."
                    )
                epochs = metrics_log.epochs(log_path)
                evaluations = [r for r in records if r.get("kind") == "evaluation"]
                test = {k: v for k, v in evaluations[-1].items() if k not in _EVALUATION_KEYS}
                result = RunResult(run, checkpoint.epoch, config.epochs, False, epochs[-1], test)
                result.report = render_report(run)
                return result
            raise RunError(
                f"{run} already finished all {config.epochs} epochs; there is nothing to resume. "
                f"Fix: look at it with `ember report {run}`, or start a longer run with "
                f"`ember train {run / rundir.CONFIG_FILE} --epochs N`."
            )
    set_seed(config.seed)
    experiment = _one_process_for_agents(recipe.build(config))
    if verbose and is_main_process():
        print(resume_message(run, checkpoint, config.epochs))
    return _run(run, experiment, config, checkpoint, verbose)


def resume_message(run: Path, checkpoint: Checkpoint | None, epochs: int) -> str:
    """The line a verbose :func:`resume` prints before training continues: from which checkpoint.

    Example:
        >>> print(resume_message(Path("runs/mlp"), None, 3))
        Resuming runs/mlp/: it has no checkpoint yet (it stopped before its first epoch ended),
        so training starts over at epoch 1 of 3.
    """
    if checkpoint is None:
        return (
            f"Resuming {run}/: it has no checkpoint yet (it stopped before its first epoch "
            f"ended), so training starts over at epoch 1 of {epochs}."
        )
    name = Path(os.path.realpath(checkpoint.path)).name  # `last` points at epoch-NNNN
    step = checkpoint.state.get("global_step")
    at = f"epoch {checkpoint.epoch} of {epochs}" + ("" if step is None else f", step {step}")
    line = f"Resuming {run}/ from checkpoint {name} ({at})"
    if checkpoint.epoch >= epochs:  # killed between the last checkpoint and the test evaluation
        line += ": every epoch is done; evaluating it on the test split"
    return line


def load_experiment(run_dir: Path, which: str = "last") -> tuple[Experiment, Checkpoint]:
    """Rebuild a run's experiment with the weights of its ``last`` (or ``best``) checkpoint."""
    run, name, experiment, checkpoint = rebuild_run(run_dir, which)
    if isinstance(experiment, Agent):
        raise RunError(
            f"{run} is a run of an agent ({name}), scored by its own test, not a network's "
            f"predictions on a split. Fix: use `ember play {run} --episodes 100` (an agent in "
            f"an environment) or `ember report {run}` (active learning's curves)."
        )
    network = experiment.network.to(experiment.trainer.device)
    # Only lazy layers need a sample to get their weights; a GAN's networks are built already
    # (and its generator takes noise, not the images).
    if has_unbuilt_layers(network):
        build_module(network, experiment.data.train[0][:2].to(experiment.trainer.device))
    check_compatible(network.state_dict(), checkpoint.weights, checkpoint.path)
    network.load_state_dict(checkpoint.weights)
    return experiment, checkpoint


def evaluate(run_dir: Path, split: str = "test", which: str = "last") -> dict[str, Any]:
    """Evaluate a run's ``which`` checkpoint on ``split``; log it and save the details."""
    experiment, checkpoint = load_experiment(run_dir, which)
    return _evaluate(Path(run_dir), experiment, split, checkpoint.epoch, which)


# -- the shared path ----------------------------------------------------------------------------
def _run(
    run: Path,
    experiment: Experiment | Agent,
    config: Any,
    checkpoint: Checkpoint | None,
    verbose: int,
    extra_callbacks: Sequence[Callback] = (),
) -> RunResult:
    """Fit from the checkpoint's epoch (``experiment`` was just built after seeding)."""
    if isinstance(experiment, Agent):  # it acts in an environment: its own loop, same run
        return run_agent(run, experiment, config, checkpoint, verbose, extra_callbacks)
    trainer = experiment.trainer
    main = is_main_process()  # the one process that writes the log, checkpoints and report
    verbose = verbose if main else 0
    experiment.run_dir, experiment.verbose = run, verbose
    start_epoch = 0 if checkpoint is None else checkpoint.epoch
    log_path = run / metrics_log.METRICS_FILE
    if main:
        metrics_log.truncate(log_path, start_epoch)  # no duplicated epochs after a kill
    has_val = experiment.data.val is not None
    checkpointer = Checkpointer(
        run, experiment.generator, monitor=experiment.monitor, resume_from=checkpoint
    )
    callbacks = [RunLog(log_path), checkpointer, TensorBoard(run / "tensorboard")]
    callbacks = callbacks if main else [checkpointer]  # every process restores a checkpoint
    for_run = [] if experiment.run_callbacks is None or not main else experiment.run_callbacks(run)
    interrupted = False
    try:
        with stop_on_ctrl_c(checkpointer, verbose):
            trainer.fit(
                experiment.batches("train", shuffle=True),
                experiment.batches("val") if has_val else None,
                epochs=config.epochs,
                callbacks=[*experiment.callbacks, *for_run, *callbacks, *extra_callbacks],
                verbose=verbose,
                initial_epoch=start_epoch,
            )
    except KeyboardInterrupt:
        interrupted = True
    interrupted = interrupted or checkpointer.stop_requested
    barrier()  # the main process has logged every epoch before any process reads the log
    result = RunResult.from_log(run, config.epochs, interrupted)
    if not main:
        return result  # the main process evaluates and writes the report alone
    done = result.epochs_done
    if done >= config.epochs and not interrupted:
        if experiment.data.test is not None:
            result.test = _evaluate(run, experiment, "test", done, "last")
        else:  # no test split: the final scores are the validation split's, and no test column
            result.validation = _evaluate(run, experiment, "val", done, "last")
    result.report = render_report(run)
    return result


def _one_process_for_agents(experiment: Experiment | Agent) -> Experiment | Agent:
    launch = torchrun_launch()
    if isinstance(experiment, Agent) and launch is not None and launch.world_size > 1:
        raise RunError(
            f"this recipe trains an agent, which acts in its environments in one process, but "
            f"{launch.world_size} processes were started. Fix: run it without --devices (or "
            f"torchrun)."
        )
    return experiment


def _evaluate(
    run: Path, experiment: Experiment, split: str, epoch: int, which: str
) -> dict[str, Any]:
    metrics, probabilities = evaluate_split(experiment, split, run)
    save_evaluation(run, split, experiment, probabilities)
    save_feature_maps(run, split, experiment)
    save_explanations(run, split, experiment)
    record = {"kind": "evaluation", "split": split, "epoch": epoch, "checkpoint": which, **metrics}
    metrics_log.append(run / metrics_log.METRICS_FILE, record)
    return metrics
