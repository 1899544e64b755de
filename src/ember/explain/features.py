"""What a network has learned to look for: its first layer's filters, images that maximise a
class, and the pairs of classes it confuses most.

* :func:`first_layer_filters`: the first convolution's kernels, one small image each;
* :func:`maximize_class`: activation maximisation (Erhan et al. 2009; Olah et al. 2017's
  regularisers): gradient ascent on the input for a class's logit, from grey noise, with random
  jitter (the image shifts by a few pixels each step), a Gaussian blur every few steps and a small
  L2 penalty, so the image shows shapes rather than high-frequency noise;
* :func:`most_confused`: fastai's ``most_confused``: (true, predicted, count), largest first.

Example:
    >>> import torch
    >>> most_confused(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 0, 0, 2]), ["a", "b", "c"])
    [('b', 'a', 2)]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ember import attacks, checks
from ember.explain.attributions import CONVOLUTIONS, channels_last, find_convolution
from ember.explain.overlays import as_display
from ember.plots.figure import new_figure, save_figure


def first_layer_filters(model: nn.Module) -> torch.Tensor:
    """The first convolution's kernels as ``(filters, kh, kw, channels)`` images in [0, 1] (each
    scaled to its own range)."""
    first = next((m for m in model.modules() if isinstance(m, CONVOLUTIONS)), None)
    if first is None:
        find_convolution(model)  # raises: which layer types it needs
    weight = first.weight.detach().float().cpu()  # (out, in, kh, kw)
    low = weight.flatten(1).min(1).values.view(-1, 1, 1, 1)
    high = weight.flatten(1).max(1).values.view(-1, 1, 1, 1)
    return ((weight - low) / (high - low).clamp_min(1e-12)).permute(0, 2, 3, 1)


def maximize_class(
    model: nn.Module,
    shape: Sequence[int],
    classes: Sequence[int],
    *,
    steps: int = 200,
    learning_rate: float = 0.05,
    jitter: int = 2,
    blur_every: int = 4,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> torch.Tensor:
    """One image per class in ``classes`` (``(len(classes), *shape)``, pixels in [0, 1]) whose
    logit for that class the model finds as high as ``steps`` steps of Adam could make it."""
    checks.positive_int("steps", steps)
    forward = attacks.logits_of(model)
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    start = 0.5 + 0.01 * torch.randn((len(classes), *shape), generator=generator)
    image = start.to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=learning_rate)
    target = torch.as_tensor(list(classes), device=device)
    spatial = (1, 2) if channels_last(shape) else (2, 3)  # the image axes of the batch
    with attacks.evaluation_mode(model):
        for step in range(steps):
            shift = [int(s) for s in torch.randint(-jitter, jitter + 1, (2,), generator=generator)]
            with torch.enable_grad():
                moved = image.roll(shift, dims=spatial)
                score = forward(moved).gather(1, target.view(-1, 1)).sum()
                loss = -score + weight_decay * (image - 0.5).pow(2).sum()
                optimizer.zero_grad()
                loss.backward()
            optimizer.step()
            with torch.no_grad():
                if blur_every and (step + 1) % blur_every == 0:
                    image.copy_(_blur(image, spatial))
                image.clamp_(0, 1)
    return image.detach()


def _blur(images: torch.Tensor, spatial: tuple[int, int]) -> torch.Tensor:
    """A 3x3 Gaussian blur (sigma 0.5) of each channel."""
    channels_last = spatial == (1, 2)
    x = images.movedim(-1, 1) if channels_last else images
    kernel1d = torch.tensor([0.25, 0.5, 0.25], device=x.device, dtype=x.dtype)
    kernel = (kernel1d[:, None] * kernel1d[None, :]).expand(x.shape[1], 1, 3, 3)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=x.shape[1])
    return blurred.movedim(1, -1) if channels_last else blurred


def most_confused(
    labels: torch.Tensor, predicted: torch.Tensor, class_names: Sequence[str], *, top: int = 10
) -> list[tuple[str, str, int]]:
    """The ``top`` (true class, predicted class, count) pairs of mistakes, most frequent first."""
    labels, predicted = labels.long().cpu(), predicted.long().cpu()
    count = len(class_names)
    matrix = torch.bincount(labels * count + predicted, minlength=count * count).view(count, count)
    matrix.fill_diagonal_(0)
    order = matrix.flatten().argsort(descending=True, stable=True)[:top]
    pairs = [(int(i) // count, int(i) % count) for i in order]
    return [(class_names[t], class_names[p], int(matrix[t, p])) for t, p in pairs if matrix[t, p]]


def plot_images(
    images: torch.Tensor, titles: Sequence[str], path: str | os.PathLike, title: str
) -> Path:
    """A row-wrapped grid of images (filters, or class images) with their titles, as a PNG."""
    columns = min(len(images), 8)
    rows = (len(images) + columns - 1) // columns
    figure = new_figure(1.5 * columns, 1.6 * rows + 0.4)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        axes.set_xticks([])
        axes.set_yticks([])
        if index < len(images):
            picture = as_display(images[index]).numpy()
            axes.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
            axes.set_title(titles[index], fontsize=7)
        else:
            axes.axis("off")
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path)
    return Path(path)
