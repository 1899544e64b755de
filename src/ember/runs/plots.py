"""The run report's figures, drawn with matplotlib and saved as PNG files (atomically).

Every function draws one figure on matplotlib's Agg canvas (no display, no pyplot, so no global
figure list to leak into), saves it to ``path`` and returns the :class:`~matplotlib.figure.Figure`.
Inputs are plain data: epoch records as read from ``metrics.jsonl``, tensors, class names.

Example:
    >>> import pathlib, tempfile
    >>> records = [{"epoch": 1, "loss": 0.9, "val_loss": 1.0}, {"epoch": 2, "loss": 0.5}]
    >>> figure = plot_curves(records, pathlib.Path(tempfile.mkdtemp()) / "curves.png")
    >>> [line.get_label() for line in figure.axes[0].lines]
    ['train', 'validation']
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import torch

from ember.explain.top_losses import image_grid
from ember.plots.figure import MAX_ANNOTATED_CLASSES, new_figure, save_figure

# Keys of an epoch record that are bookkeeping, not metrics to draw.
NOT_METRICS = ("kind", "epoch", "step", "time", "learning_rate", "split", "checkpoint")


def metric_names(records: Sequence[dict]) -> list[str]:
    """The metrics logged in ``records``, without ``val_`` prefixes, loss first, in log order.

    Example:
        >>> metric_names([{"epoch": 1, "accuracy": 0.5, "loss": 1.0, "val_loss": 1.1}])
        ['loss', 'accuracy']
    """
    names: dict[str, None] = {}
    for record in records:
        for key, value in record.items():
            if key not in NOT_METRICS and as_float(value) is not None:
                names[key.removeprefix("val_")] = None
    return sorted(names, key=lambda name: name != "loss")  # stable: the rest keep their order


def as_float(value: Any) -> float | None:
    """A logged metric value as a float, or None if it is not one.

    ``metrics.jsonl`` stores NaN and infinities as the strings ``"nan"``, ``"inf"``, ``"-inf"``.

    Example:
        >>> as_float(3), as_float("nan"), as_float("adam"), as_float(True)
        (3.0, nan, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return None


def plot_curves(records: Sequence[dict], path: str | os.PathLike) -> Any:
    """One panel per metric, training and validation against the epoch; save it to ``path``."""
    names = metric_names(records) or ["loss"]
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    figure = new_figure(4.2 * columns, 3.2 * rows)
    for index, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            epochs, values = _series(records, key)
            if values:
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        _finish_panel(axes, name, empty="not logged yet")
    return save_figure(figure, path)


def plot_learning_rate(records: Sequence[dict], path: str | os.PathLike) -> Any:
    """The learning rate of each epoch (log scale when it spans more than a factor of 10)."""
    figure = new_figure(6, 3.2)
    axes = figure.add_subplot()
    epochs, rates = _series(records, "learning_rate")
    axes.plot(epochs, rates, marker="o", markersize=3)
    if rates and min(rates) > 0 and max(rates) > 10 * min(rates):
        axes.set_yscale("log")
    _epoch_axis(axes)
    axes.set_ylabel("learning rate")
    axes.grid(alpha=0.3)
    return save_figure(figure, path)


def plot_confusion_matrix(
    matrix: torch.Tensor, class_names: Sequence[str], path: str | os.PathLike
) -> Any:
    """Heatmap of ``matrix[true, predicted]`` counts, class names on both axes."""
    counts = matrix.detach().cpu().long()
    size = len(class_names)
    side = min(14.0, max(5.0, 0.55 * size + 2.5))
    figure = new_figure(side, side * 0.9)
    axes = figure.add_subplot()
    image = axes.imshow(counts.numpy(), cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    many = size > MAX_ANNOTATED_CLASSES  # then small tick labels, and no counts in the cells
    font = {"fontsize": 6} if many else {}
    rotation = 90 if many else 45
    axes.set_xticks(
        range(size), class_names, rotation=rotation, ha="right", rotation_mode="anchor", **font
    )
    axes.set_yticks(range(size), class_names, **font)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if not many:
        threshold = counts.max().item() / 2
        for true in range(size):
            for predicted in range(size):
                count = counts[true, predicted].item()
                colour = "white" if count > threshold else "black"
                axes.text(predicted, true, str(count), ha="center", va="center", color=colour)
    return save_figure(figure, path)


def plot_roc_curves(
    false_positive_rates: Sequence[torch.Tensor],
    true_positive_rates: Sequence[torch.Tensor],
    aucs: Sequence[float],
    class_names: Sequence[str],
    path: str | os.PathLike,
) -> Any:
    """One-vs-rest ROC curve of each class, its AUC in the legend, chance as a dashed diagonal."""
    figure = new_figure(6.5, 5.5)
    axes = figure.add_subplot()
    for fpr, tpr, auc, name in zip(false_positive_rates, true_positive_rates, aucs, class_names):
        auc_text = "n/a" if math.isnan(auc) else f"{auc:.3f}"
        axes.plot(fpr.cpu().numpy(), tpr.cpu().numpy(), label=f"{name} (AUC {auc_text})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_aspect("equal")
    axes.grid(alpha=0.3)
    if len(class_names) <= MAX_ANNOTATED_CLASSES:
        axes.legend(fontsize="small", loc="lower right")
    return save_figure(figure, path)


def plot_wrong_images(
    images: torch.Tensor,
    true_labels: torch.Tensor,
    predictions: torch.Tensor,
    confidences: torch.Tensor,
    class_names: Sequence[str],
    path: str | os.PathLike,
) -> Any:
    """A grid of images (K, H, W, C) in [0, 1], each titled with its true and predicted class:
    the "most confidently wrong" images of a run evaluated before the report showed top losses
    (:func:`ember.explain.plot_top_losses`)."""
    titles = [
        f"true: {class_names[int(true)]}\npredicted: {class_names[int(predicted)]} "
        f"({float(confidence):.0%})"
        for true, predicted, confidence in zip(true_labels, predictions, confidences)
    ]
    return image_grid(images, titles, path=path)


def plot_comparison(histories: dict[str, Sequence[dict]], path: str | os.PathLike) -> Any:
    """Loss and accuracy per epoch, one line per run (validation, else training, marked so)."""
    logged = {name for records in histories.values() for name in metric_names(records)}
    panels = [name for name in ("loss", "accuracy") if name in logged] or ["loss"]
    figure = new_figure(5.5 * len(panels), 4)
    figure.suptitle("validation per epoch (training where marked)")
    for index, name in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        for run, records in histories.items():
            epochs, values = _series(records, f"val_{name}")
            label = run
            if not values:
                epochs, values = _series(records, name)
                label = f"{run} (train)"
            if values:
                axes.plot(epochs, values, marker="o", markersize=3, label=label)
        _finish_panel(axes, name, empty="no epochs logged")
    return save_figure(figure, path)


def _finish_panel(axes: Any, title: str, empty: str) -> None:
    """Title, epoch axis, grid; the legend, or ``empty`` written across a panel with no line."""
    axes.set_title(title)
    _epoch_axis(axes)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(fontsize="small")
    else:
        axes.text(0.5, 0.5, empty, ha="center", va="center")


def _epoch_axis(axes: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 2.5"


def _series(records: Sequence[dict], key: str) -> tuple[list[int], list[float]]:
    pairs = [(r["epoch"], as_float(r.get(key))) for r in records if "epoch" in r]
    pairs = [(epoch, value) for epoch, value in pairs if value is not None]
    return [epoch for epoch, _ in pairs], [value for _, value in pairs]
