"""Figures for the autoencoder and VAE recipes: image rows and grids, codes by class, histograms.

Images are channels-last ``(N, H, W, C)`` in [0, 1], as :func:`~ember.recipes.load_images` gives
them. Each function draws one figure with :mod:`ember.runs.plots`' helpers and saves it as a PNG
atomically, like every figure of a run report.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.png"
    >>> figure = plot_image_rows({"original": torch.rand(4, 8, 8, 1),
    ...                           "reconstruction": torch.rand(4, 8, 8, 1)}, path, "a title")
    >>> [axes.get_ylabel() for axes in figure.axes]
    ['original', 'reconstruction']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember.callbacks.sample_grid import image_grid
from ember.plots.feature_maps import embed, plot_feature_map
from ember.plots.figure import new_figure, save_figure


def plot_image_rows(
    rows: Mapping[str, torch.Tensor],
    path: str | os.PathLike,
    title: str,
    column_titles: Sequence[str] | None = None,
) -> Any:
    """One labelled row per entry of ``rows`` (each ``(K, H, W, C)``), K images side by side.

    ``column_titles`` (K names, e.g. each image's class) go above the first row.
    """

    count = max(len(images) for images in rows.values())
    figure = new_figure(max(4.0, 0.9 * count + 1.2), 1.0 * len(rows) + 0.6)
    figure.suptitle(title)
    for index, (name, images) in enumerate(rows.items()):
        axes = figure.add_subplot(len(rows), 1, index + 1)
        _show(axes, image_grid(_numpy(images), columns=count, padding=2))
        axes.set_ylabel(name, rotation=0, ha="right", va="center")
        if index == 0 and column_titles is not None:
            height, width = images.shape[1:3]
            for column, text in enumerate(column_titles):
                axes.text(2 + column * (width + 2) + width / 2, -2, text, ha="center", fontsize=8)
    return save_figure(figure, path)


def plot_image_grid(
    images: torch.Tensor, path: str | os.PathLike, title: str, columns: int | None = None
) -> Any:
    """Images ``(N, H, W, C)`` tiled ``columns`` to a row (default: a square), under a title."""

    columns = columns or int(np.ceil(np.sqrt(len(images))))
    mosaic = image_grid(_numpy(images), columns=columns, padding=2)
    side = min(9.0, max(4.0, mosaic.shape[1] / 40))  # about 40 pixels of mosaic per inch
    figure = new_figure(side, side * mosaic.shape[0] / mosaic.shape[1] + 0.5)
    axes = figure.add_subplot()
    _show(axes, mosaic)
    axes.set_title(title)
    return save_figure(figure, path)


def plot_score_histograms(
    scores: Mapping[str, np.ndarray], path: str | os.PathLike, title: str, x_label: str
) -> Any:
    """Overlaid histograms (as densities, so groups of different sizes compare) on shared bins.

    The x axis is logarithmic when the scores span more than a factor of 20, as reconstruction
    errors do.
    """

    values = [np.asarray(group, dtype=np.float64) for group in scores.values()]
    everything = np.concatenate(values)
    low, high = float(everything.min()), float(everything.max())
    logarithmic = low > 0 and high > 20 * low
    bins = np.geomspace(low, high, 61) if logarithmic else np.linspace(low, high or 1.0, 61)
    figure = new_figure(7, 4)
    axes = figure.add_subplot()
    for (name, group), colour in zip(scores.items(), ("tab:blue", "tab:red", "tab:green")):
        label = f"{name} ({len(group):,} images)"
        axes.hist(group, bins=bins, density=True, alpha=0.55, color=colour, label=label)
    if logarithmic:
        axes.set_xscale("log")
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel("density")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return save_figure(figure, path)


def plot_codes(
    codes: torch.Tensor,
    labels: torch.Tensor,
    class_names: list[str],
    out_dir: Path,
    what: str,
    seed: int = 0,
    stem: str = "codes",
) -> list[Path]:
    """Draw codes ``(N, D)`` coloured by class: as they are when D = 2 (``<stem>.png``), else
    their PCA and t-SNE maps (``<stem>-pca.png``, ``<stem>-tsne.png``, at most
    :data:`ember.plots.feature_maps.MAX_POINTS` points each)."""

    if codes.shape[1] == 2:
        path = out_dir / f"{stem}.png"
        title = f"2-D {what} ({len(codes):,} points)"
        plot_feature_map(codes, labels, class_names, path, title, ("code 1", "code 2"))
        return [path]
    paths = []
    for method, title in (("pca", "PCA"), ("tsne", "t-SNE")):
        points, kept = embed(codes, method, seed)
        path = out_dir / f"{stem}-{method}.png"
        heading = f"{title} of the {codes.shape[1]}-d {what} ({len(points):,} points)"
        plot_feature_map(
            points, labels[kept], class_names, path, heading, (f"{title} 1", f"{title} 2")
        )
        paths.append(path)
    return paths


def one_per_class(labels: torch.Tensor, classes: int) -> torch.Tensor:
    """The index of the first image of each class present in ``labels``, in class order."""
    return torch.stack(
        [(labels == c).nonzero()[0, 0] for c in range(classes) if (labels == c).any()]
    )


def _numpy(images: torch.Tensor) -> np.ndarray:
    return images.detach().float().cpu().clamp(0, 1).numpy()


def _show(axes: Any, mosaic: np.ndarray) -> None:
    pixels = mosaic[..., 0] if mosaic.shape[-1] == 1 else mosaic
    axes.imshow(pixels, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
