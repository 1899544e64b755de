"""fastai's top losses: the samples a classifier finds hardest, right or wrong, with their images.

* :func:`top_losses`: each sample's loss (cross-entropy by default), the ``k`` largest first, with
  the predicted and true classes and their probabilities (fastai's ``Interpretation.top_losses``);
* :func:`plot_top_losses`: those images in a grid, each titled as fastai titles them:
  prediction / truth, then loss / probability of the truth;
* :func:`image_grid`: the grid itself (one mosaic image with a title band above each tile).

A high loss is a confident mistake, or a right answer given with little confidence: either is
worth a look (a mislabelled image, a class the network has not learned, a confusing picture).

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> x, y = torch.rand(10, 4, 4, 1), torch.randint(0, 3, (10,))
    >>> result = top_losses(net, x, y, k=4)
    >>> len(result.indices), bool((result.losses[:-1] >= result.losses[1:]).all())
    (4, True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ember import attacks, checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.explain.overlays import as_display
from ember.plots.figure import new_figure, save_figure

HEADING = "Top losses\n(prediction / truth / loss / probability of truth)"
MISTAKE_COLOR = "#b00020"  # a wrong prediction's title; a right one's stays black
# -log of the smallest probability kept: the loss of a probability that underflowed to 0.
SMALLEST_PROBABILITY = 1e-12


class TopLosses(NamedTuple):
    """The ``k`` highest-loss samples, largest loss first; every field is a ``(k,)`` CPU tensor.

    Example:
        >>> p = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
        >>> losses = -p[torch.arange(3), torch.tensor([0, 0, 1])].log()
        >>> TopLosses.from_losses(losses, p, torch.tensor([0, 0, 1]), k=2).indices.tolist()
        [1, 2]
    """

    indices: torch.Tensor  # positions in the data that was scored
    losses: torch.Tensor  # the per-sample loss
    predictions: torch.Tensor  # the predicted class (largest probability)
    labels: torch.Tensor  # the true class
    predicted_probabilities: torch.Tensor  # probability of the predicted class
    true_probabilities: torch.Tensor  # probability of the true class

    @classmethod
    def from_losses(
        cls,
        losses: torch.Tensor,
        probabilities: torch.Tensor,
        labels: torch.Tensor,
        k: int = 9,
    ) -> TopLosses:
        """The ``k`` largest of ``losses`` (N,) with what ``probabilities`` (N, C) and
        ``labels`` (N,) say of those samples; equal losses keep their data order."""
        checks.positive_int("k", k)
        losses, probabilities, labels = losses.cpu(), probabilities.cpu(), labels.cpu().long()
        order = losses.argsort(descending=True, stable=True)[:k]
        confidence, predicted = probabilities[order].max(-1)
        return cls(
            indices=order,
            losses=losses[order],
            predictions=predicted,
            labels=labels[order],
            predicted_probabilities=confidence,
            true_probabilities=probabilities[order, labels[order]],
        )


def top_losses(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    k: int = 9,
    *,
    batch_size: int = 256,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> TopLosses:
    """Score every sample of ``x`` against its class ``y`` and keep the ``k`` largest losses.

    ``x`` is whatever ``model`` takes (images in ember's ``(N, H, W, C)`` or torch's
    ``(N, C, H, W)``, feature rows, ...). The scores are the model's logits where it has them
    (an ember ``Sequential`` or functional ``Model``), else its output, read as logits, or as
    probabilities when every row is non-negative and sums to 1 (a network ending in softmax:
    the loss is then the negative log of the true class's probability, floored at 1e-12).
    ``loss(scores, labels)`` replaces the cross-entropy and must give one loss per sample. ``k`` beyond ``len(x)`` keeps all. The
    model runs in eval mode without gradients, in ``batch_size`` batches on its own device,
    and every module of it is given back in the mode it was in.
    """
    checks.positive_int("k", k)
    checks.positive_int("batch_size", batch_size)
    if loss is not None and not callable(loss):
        raise ConfigError(
            f"loss must be a function (scores, labels) -> one loss per sample, received "
            f"{type(loss).__name__}. Fix: loss=None (cross-entropy) or e.g. "
            f"lambda s, y: F.cross_entropy(s, y, reduction='none', label_smoothing=0.1)."
        )
    y = _checked_labels(x, y)
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else x.device
    forward = attacks.logits_of(model)
    losses, probabilities = [], []
    from_probabilities = None  # decided on the first batch, kept for all of them
    with attacks.evaluation_mode(model), torch.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            xb, yb = xb.to(device), yb.to(device)
            scores = forward(xb)
            if from_probabilities is None:
                _check_scores(scores, len(xb), y)
                from_probabilities = _are_probabilities(scores)
            batch_losses, batch_probabilities = _score(scores, yb, loss, from_probabilities)
            losses.append(batch_losses.float().cpu())
            probabilities.append(batch_probabilities.cpu())
    return TopLosses.from_losses(torch.cat(losses), torch.cat(probabilities), y.cpu(), k)


def plot_top_losses(
    images: torch.Tensor,
    result: TopLosses,
    class_names: Sequence[str],
    path: str | os.PathLike | None = None,
) -> Any:
    """Draw ``images[result.indices]`` (the ``x`` given to :func:`top_losses`, either layout) in
    a grid titled "prediction / truth" and "loss / probability of truth" (fastai's order), a
    mistake's title in red; save it to ``path`` (PNG) if given; return the figure.

    Example:
        >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
        >>> x, y = torch.rand(5, 4, 4, 1), torch.tensor([0, 1, 0, 1, 1])
        >>> figure = plot_top_losses(x, top_losses(net, x, y, k=3), ["cat", "dog"])
        >>> len(figure.axes[0].texts)  # three titles and the heading
        4
    """
    if not torch.is_tensor(images) or images.ndim not in (3, 4):
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise ShapeError(
            f"plot_top_losses draws images (N, H, W, C), (N, C, H, W) or (N, H, W), received "
            f"{shape}. Fix: pass the images given to top_losses."
        )
    if len(result.indices) and int(result.indices.max()) >= len(images):
        raise ShapeError(
            f"result.indices go up to {int(result.indices.max())} but images holds "
            f"{len(images)}. Fix: pass the same x that top_losses scored."
        )
    classes = torch.cat([result.labels, result.predictions]).long()
    if len(classes) and int(classes.max()) >= len(class_names):
        raise ConfigError(
            f"class {int(classes.max())} has no name: received {len(class_names)} class names. "
            f"Fix: pass one name per class of the model's output."
        )
    titles, colors = [], []
    for predicted, true, value, probability in zip(
        result.predictions.tolist(),
        result.labels.tolist(),
        result.losses.tolist(),
        result.true_probabilities.tolist(),
    ):
        titles.append(
            f"{class_names[predicted]} / {class_names[true]}\n{value:.2f} / {probability:.2f}"
        )
        colors.append("black" if predicted == true else MISTAKE_COLOR)
    picked = images[result.indices.to(images.device)]
    return image_grid(picked, titles, heading=HEADING, colors=colors, path=path)


def image_grid(
    images: torch.Tensor,
    titles: Sequence[str],
    *,
    heading: str = "",
    colors: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
) -> Any:
    """Images (either layout, any range: see :func:`~ember.explain.overlays.as_display`), six to a
    row, each under its title (two lines of 8-point text), ``heading`` above them all.

    The grid is one mosaic image with the titles in white bands above the tiles: one axes
    instead of one per image keeps it several times faster than a grid of subplots.

    Example:
        >>> figure = image_grid(torch.rand(3, 5, 5, 1), ["a", "b", "c"])
        >>> [text.get_text() for text in figure.axes[0].texts]
        ['a', 'b', 'c']
    """
    pictures = [as_display(image) for image in images]  # each (H, W) grey or (H, W, 3)
    count = len(pictures)
    height, width = pictures[0].shape[:2] if count else (1, 1)
    # A heading needs two tiles' width to fit on its lines.
    columns = max(2 if heading else 1, min(6, count))
    rows = max(1, math.ceil(count / columns))
    margin = max(1, width // 14)
    cell_width = width + 2 * margin
    inches_per_pixel = 2.0 / cell_width  # each tile is 2 inches wide
    band = math.ceil(0.42 / inches_per_pixel)  # room for two lines of 8-point text
    heading_band = math.ceil(0.5 / inches_per_pixel) if heading else 0
    cell_height = band + height + margin
    total_height = heading_band + rows * cell_height
    figure = new_figure(2.0 * columns, total_height * inches_per_pixel, layout=None)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.axis("off")
    mosaic = torch.ones(total_height, columns * cell_width, 3)  # white, (H', W', RGB)
    for index, picture in enumerate(pictures):
        row, column = divmod(index, columns)
        top = heading_band + row * cell_height + band
        left = column * cell_width + margin
        rgb = picture.unsqueeze(-1) if picture.ndim == 2 else picture  # (H, W, 1 or 3)
        mosaic[top : top + height, left : left + width] = rgb.expand(height, width, 3)
        color = colors[index] if colors is not None else "black"
        centre = (left + width / 2, top - band / 2)
        axes.text(*centre, titles[index], ha="center", va="center", fontsize=8, color=color)
    if heading:
        middle = columns * cell_width / 2
        axes.text(middle, heading_band / 2, heading, ha="center", va="center", fontsize=9)
    axes.imshow(mosaic.numpy(), aspect="auto", interpolation="nearest")
    if count == 0:
        axes.text(0.5, 0.5, "no images", ha="center", transform=axes.transAxes)
    return figure if path is None else save_figure(figure, path)


def _checked_labels(x: torch.Tensor, y: Any) -> torch.Tensor:
    if not torch.is_tensor(x):
        raise DataError(
            f"top_losses scores a tensor of inputs, received {type(x).__name__}. "
            f"Fix: torch.as_tensor(x) (images as floats in [0, 1])."
        )
    y = torch.as_tensor(y)
    if y.ndim != 1 or y.is_floating_point() or y.dtype == torch.bool:
        raise DataError(
            f"top_losses expects integer class labels of shape ({len(x)},), received shape "
            f"{tuple(y.shape)} and dtype {y.dtype}. Fix: pass class indices (y.argmax(-1) for "
            f"one-hot labels)."
        )
    if len(y) != len(x):
        raise ShapeError(
            f"x and y must hold the same number of samples, received {len(x)} inputs and "
            f"{len(y)} labels. Fix: give one label per input."
        )
    if len(y) == 0:
        raise DataError("top_losses received no samples (len(x) == 0). Fix: pass a non-empty x.")
    if int(y.min()) < 0:
        raise DataError(
            f"class labels must be non-negative class indices, received {int(y.min())}. "
            f"Fix: map the labels to 0 .. classes - 1."
        )
    return y.long()


def _check_scores(scores: Any, count: int, y: torch.Tensor) -> None:
    """Scores (N, C) whose C covers every label, checked on the first batch."""
    if not torch.is_tensor(scores) or scores.ndim != 2 or len(scores) != count:
        shape = tuple(scores.shape) if torch.is_tensor(scores) else type(scores).__name__
        raise ShapeError(
            f"top_losses needs the model to give one row of class scores per sample, (N, C), "
            f"received {shape} for a batch of {count}. Fix: a classifier whose output is "
            f"(batch, classes) logits or probabilities."
        )
    classes = scores.shape[1]
    if int(y.max()) >= classes:
        raise DataError(
            f"class labels must be below the model's {classes} classes, received label "
            f"{int(y.max())}. Fix: labels in 0 .. {classes - 1}, or a model with more outputs."
        )


def _are_probabilities(scores: torch.Tensor) -> bool:
    scores = scores.float()
    sums = scores.sum(-1)
    return bool((scores >= 0).all() and torch.allclose(sums, torch.ones_like(sums), atol=1e-3))


def _score(
    scores: torch.Tensor,
    labels: torch.Tensor,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
    from_probabilities: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample losses (N,) and class probabilities (N, C) of one batch."""
    scores = scores.float()  # bfloat16 logits would round the losses being ranked
    probabilities = scores if from_probabilities else scores.softmax(-1)
    if loss is None and from_probabilities:
        log_probabilities = scores.clamp_min(SMALLEST_PROBABILITY).log()
        return F.nll_loss(log_probabilities, labels, reduction="none"), probabilities
    if loss is None:
        return F.cross_entropy(scores, labels, reduction="none"), probabilities
    losses = loss(scores, labels)
    if not torch.is_tensor(losses) or losses.shape != (len(labels),):
        shape = tuple(losses.shape) if torch.is_tensor(losses) else type(losses).__name__
        raise ShapeError(
            f"loss must give one loss per sample, ({len(labels)},), received {shape}. "
            f"Fix: compute it with reduction='none'."
        )
    return losses, probabilities
