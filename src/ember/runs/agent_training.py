"""A run of an agent (:class:`ember.rl.Agent`): the same run folder, callbacks and report.

``ember train dqn-cartpole`` comes here from :func:`ember.runs.training.train`: the agent learns
with the run's metrics log, checkpoints and TensorBoard callbacks; a finished run plays
``test_episodes`` greedy episodes from held-out starting states with its ``best`` network (its
test metrics), draws its
training curves and films one episode (``evaluation/test/episode.gif``), all shown by the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ember.callbacks import TensorBoard
from ember.errors import RunError
from ember.rl import Agent
from ember.runs import metrics_log
from ember.runs.checkpoint import Checkpoint, load_checkpoint
from ember.runs.interrupts import stop_on_ctrl_c
from ember.runs.rebuild import rebuild_run
from ember.runs.report import render_report
from ember.runs.results import RunResult
from ember.runs.run_callbacks import Checkpointer, RunLog
from ember.saving import check_compatible

FIGURES = Path("evaluation") / "test"


def run_agent(
    run: Path,
    agent: Agent,
    config: Any,
    checkpoint: Checkpoint | None,
    verbose: int,
    extra_callbacks: Sequence[Any] = (),
) -> RunResult:
    """Learn from the checkpoint's epoch to ``config.epochs``; then test, draw, report.
    ``extra_callbacks`` (``training.train(callbacks=...)``) run after the run's own."""
    start_epoch = 0 if checkpoint is None else checkpoint.epoch
    log_path = run / metrics_log.METRICS_FILE
    metrics_log.truncate(log_path, start_epoch)  # no duplicated epochs after a kill
    # Agents draw no shuffled batches; the checkpoint still holds a data-order generator.
    checkpointer = Checkpointer(
        run, torch.Generator(), monitor=agent.monitor, resume_from=checkpoint
    )
    callbacks = [RunLog(log_path), checkpointer, TensorBoard(run / "tensorboard")]
    callbacks += list(extra_callbacks)
    interrupted = False
    try:
        with stop_on_ctrl_c(checkpointer, verbose):
            agent.learn(
                config.epochs, callbacks=callbacks, initial_epoch=start_epoch, verbose=verbose
            )
    except KeyboardInterrupt:
        interrupted = True
    interrupted = interrupted or checkpointer.stop_requested
    result = RunResult.from_log(run, config.epochs, interrupted)
    done = result.epochs_done
    if done >= config.epochs and not interrupted:
        # An agent that is not played in episodes (active learning) has no test_episodes.
        result.test = score_agent(run, agent, getattr(config, "test_episodes", 1), done)
    result.report = render_report(run)
    return result


def score_agent(run: Path, agent: Agent, episodes: int, epoch: int) -> dict[str, float]:
    """Play the held-out episodes with the ``best`` checkpoint's network (the one with the
    highest greedy return after an epoch: a Q-network's policy can collapse late in training),
    log them as the test evaluation, draw the figures."""
    best = load_checkpoint(run, "best")
    which = "last" if best is None else "best"
    if best is not None:
        agent.model.load_state_dict(best.weights)
    metrics = agent.test(episodes) if episodes else {}
    tested = epoch if best is None else best.epoch  # the epoch whose network played
    record = {"kind": "evaluation", "split": "test", "epoch": tested, "checkpoint": which}
    metrics_log.append(run / metrics_log.METRICS_FILE, {**record, **metrics})
    agent.write_figures(run / FIGURES, metrics_log.epochs(run / metrics_log.METRICS_FILE))
    return metrics


def load_agent(run_dir: Path, which: str = "last") -> tuple[Agent, Checkpoint]:
    """Rebuild a run's agent with the network of its ``last`` (or ``best``) checkpoint."""
    run, name, agent, checkpoint = rebuild_run(run_dir, which)
    if not isinstance(agent, Agent):
        raise RunError(
            f"{run} is a {name} run, which trains a network on data, not an agent in an "
            f"environment. Fix: use `ember evaluate {run}` or `ember predict {run} ...`."
        )
    check_compatible(agent.model.state_dict(), checkpoint.weights, checkpoint.path)
    agent.model.load_state_dict(checkpoint.weights)
    return agent, checkpoint
