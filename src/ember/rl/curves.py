"""An agent's training, drawn against environment steps: returns, epsilon, loss and mean Q."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember.plots.figure import new_figure, save_figure


def plot_training(
    episodes: Sequence[tuple[int, float, int]],
    epochs: Sequence[dict[str, Any]],
    path: str | os.PathLike,
    *,
    step_name: str = "environment steps",
) -> Any:
    """Four panels against ``step_name``: each training episode's return (dots) with a moving
    average and the greedy evaluations (mean ± std), epsilon, the TD loss and the mean Q value.

    ``episodes`` holds ``(step at its end, return, length)``; ``epochs`` the epoch logs (with
    ``env_steps``), as in ``metrics.jsonl``.

    Example:
        >>> import pathlib, tempfile
        >>> logs = [{"env_steps": 100, "epsilon": 0.5, "loss": 1.0, "q_value": 2.0,
        ...          "eval_return": 20.0, "eval_return_std": 2.0}]
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "training.png"
        >>> _ = plot_training([(30, 30.0, 30), (70, 40.0, 40)], logs, path)
        >>> path.stat().st_size > 0
        True
    """
    figure = new_figure(11, 7)
    panels = figure.subplots(2, 2, sharex=True)
    returns_axes, epsilon_axes, loss_axes, q_axes = panels.ravel()

    if episodes:
        steps = np.array([step for step, _, _ in episodes], dtype=float)
        values = np.array([value for _, value, _ in episodes], dtype=float)
        returns_axes.scatter(steps, values, s=4, alpha=0.35, label="training episodes")
        window = max(1, min(len(values) // 5, max(20, len(values) // 50)))  # ~50 points or more
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        returns_axes.plot(steps[window - 1 :], smooth, label=f"mean of {window} episodes")
    evaluated = [e for e in epochs if "eval_return" in e and "env_steps" in e]
    if evaluated:
        x = np.array([e["env_steps"] for e in evaluated], dtype=float)
        mean = np.array([e["eval_return"] for e in evaluated], dtype=float)
        std = np.array([e.get("eval_return_std", 0.0) for e in evaluated], dtype=float)
        returns_axes.plot(x, mean, marker="o", markersize=4, color="black", label="greedy policy")
        returns_axes.fill_between(x, mean - std, mean + std, color="black", alpha=0.12)
    returns_axes.set_title("episodic return")
    returns_axes.legend(loc="best", fontsize=8)

    for axes, key, title in (
        (epsilon_axes, "epsilon", "epsilon (chance of a random action)"),
        (loss_axes, "loss", "TD loss (mean per epoch)"),
        (q_axes, "q_value", "mean Q value"),
    ):
        points = [(e["env_steps"], e[key]) for e in epochs if key in e and "env_steps" in e]
        if points:
            axes.plot(*zip(*points), marker="o", markersize=3)
        else:
            axes.text(0.5, 0.5, "not logged", ha="center", va="center", transform=axes.transAxes)
        axes.set_title(title)
    for axes in panels.ravel():
        axes.grid(alpha=0.3)
    for axes in panels[1]:
        axes.set_xlabel(step_name)
    return save_figure(figure, path)
