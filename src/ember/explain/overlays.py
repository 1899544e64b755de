"""Heat maps drawn over their images: one PNG, a column per image, the image above its overlay.

Example:
    >>> import pathlib, tempfile, torch
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "overlay.png"
    >>> _ = plot_overlays(torch.rand(2, 8, 8, 1), torch.rand(2, 8, 8), ["a", "b"], path, "saliency")
    >>> path.read_bytes()[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from ember.explain.attributions import channels_last
from ember.plots.figure import new_figure, save_figure


def as_display(image: torch.Tensor) -> torch.Tensor:
    """An image as ``(H, W)`` grey or ``(H, W, 3)`` colour in [0, 1], from either layout."""
    image = image.detach().float().cpu()
    if image.ndim == 3 and not channels_last(image.shape):
        image = image.movedim(0, -1)  # channels first -> last
    if image.shape[-1] == 1:
        image = image[..., 0]
    low, high = image.min(), image.max()
    return (image - low) / (high - low) if high > 1 or low < 0 else image


def plot_overlays(
    images: torch.Tensor,
    maps: torch.Tensor,
    titles: Sequence[str],
    path: str | os.PathLike,
    method: str,
) -> Path:
    """Draw each image (top row) and its heat map over it (bottom row) into ``path`` (PNG)."""
    count = len(images)
    figure = new_figure(1.9 * count + 0.4, 4.2)
    grid = figure.subplots(2, count, squeeze=False)
    for column in range(count):
        picture = as_display(images[column]).numpy()
        heat = maps[column].detach().float().cpu()
        heat = (heat / heat.max() if heat.max() > 0 else heat).numpy()
        grey = picture.ndim == 2
        top, bottom = grid[0][column], grid[1][column]
        top.imshow(picture, cmap="gray" if grey else None, vmin=0, vmax=1)
        top.set_title(titles[column], fontsize=8)
        bottom.imshow(picture, cmap="gray" if grey else None, vmin=0, vmax=1)
        bottom.imshow(heat, cmap="jet", alpha=0.5, vmin=0, vmax=1)
        for axes in (top, bottom):
            axes.set_xticks([])
            axes.set_yticks([])
    figure.suptitle(f"{method}: where the predicted class's score comes from", fontsize=9)
    save_figure(figure, path)
    return Path(path)
