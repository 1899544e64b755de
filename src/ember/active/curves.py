"""Learning curves of active learning: test accuracy against labels, and labels to a target.

Example:
    >>> labels_to_reach([0.70, 0.80, 0.85], [100, 200, 400], target=0.8)
    200
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ember.plots.figure import new_figure, save_figure


def labels_to_reach(
    accuracies: Sequence[float], labels: Sequence[int], target: float
) -> int | None:
    """The fewest labels on the schedule at which ``accuracies`` reach ``target`` (None: never).

    Read off the schedule's points, without interpolating between them.

    Example:
        >>> labels_to_reach([0.70, 0.78], [100, 200], target=0.8) is None
        True
    """
    for count, accuracy in zip(labels, accuracies):
        if accuracy >= target:
            return int(count)
    return None


def plot_learning_curves(
    curves: Mapping[str, np.ndarray],
    labels: Sequence[int],
    path: str | os.PathLike,
    *,
    baseline: str = "random",
    title: str = "test accuracy against labels",
) -> Any:
    """One line per curve (the mean over seeds) with a band from the lowest to the highest seed.

    ``curves`` maps a name to accuracies ``(seeds, rounds)`` (rounds not done yet are NaN);
    ``labels`` holds the labelled pool's size at each round. A dashed line marks ``baseline``'s
    accuracy at its last round done, the target the other curves are read against.

    Example:
        >>> import pathlib, tempfile
        >>> curves = {"random": np.array([[0.6, 0.7], [0.62, 0.71]]),
        ...           "margin": np.array([[0.6, 0.75], [0.62, 0.74]])}
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.png"
        >>> _ = plot_learning_curves(curves, [100, 200], path)
        >>> path.stat().st_size > 0
        True
    """
    figure = new_figure(8, 5.5)
    axes = figure.add_subplot()
    x = np.asarray(labels, dtype=float)
    for name, values in curves.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        done = ~np.isnan(values).any(axis=0)
        if not done.any():
            continue
        seeds = values[:, done]
        mean = seeds.mean(axis=0)
        style = {"linestyle": "--"} if name.startswith("pretrained") else {}
        (line,) = axes.plot(x[done], mean, marker="o", markersize=3, label=name, **style)
        axes.fill_between(
            x[done], seeds.min(axis=0), seeds.max(axis=0), color=line.get_color(), alpha=0.15
        )
    if baseline in curves:
        values = np.atleast_2d(np.asarray(curves[baseline], dtype=float))
        done = ~np.isnan(values).any(axis=0)
        if done.any():
            last = int(np.flatnonzero(done)[-1])
            target = values[:, last].mean()
            axes.axhline(
                target,
                color="grey",
                linestyle=":",
                linewidth=1,
                label=f"{baseline} at {int(x[last]):,} labels: {target:.4f}",
            )
    seeds_count = max((np.atleast_2d(v).shape[0] for v in curves.values()), default=0)
    seeds = f"{seeds_count} seed" + ("s" if seeds_count != 1 else "")
    axes.set_title(f"{title} (mean of {seeds}; band: lowest to highest)")
    axes.set_xlabel("labelled images")
    axes.set_ylabel("test accuracy")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)
