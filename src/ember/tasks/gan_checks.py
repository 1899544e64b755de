"""The GAN task's checks: its arguments, networks and data, before any step.

Each raises an :class:`ember.EmberError` that names the problem and the fix.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, DataError, EmberError, ShapeError
from ember.tasks.gan_losses import LOSSES

Batch = tuple[torch.Tensor, ...]
FIX_NETWORKS = "Fix: GAN(generator, discriminator, latent_size=...) with two separate nn.Modules."


def check_networks(generator: Any, discriminator: Any) -> None:
    """Two distinct modules that share no parameter tensor (each optimizer moves its own).

    Example:
        >>> net = torch.nn.Linear(2, 2)
        >>> check_networks(net, net)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: a GAN needs two networks, received the same module twice. ...
    """
    for name, network in [("generator", generator), ("discriminator", discriminator)]:
        if not isinstance(network, nn.Module):
            raise ConfigError(
                f"a GAN needs two networks, a generator and a discriminator; received "
                f"{name}={type(network).__name__}. {FIX_NETWORKS}"
            )
    if generator is discriminator:
        raise ConfigError(
            f"a GAN needs two networks, received the same module twice. {FIX_NETWORKS}"
        )
    shared = {id(p) for p in generator.parameters()} & {id(p) for p in discriminator.parameters()}
    if shared:
        raise ConfigError(
            f"the generator and discriminator share {len(shared)} parameter tensor(s); each "
            f"optimizer would move the other's weights. {FIX_NETWORKS}"
        )


def check_settings(
    latent_size: Any, loss: Any, discriminator_steps: Any, gradient_penalty: Any
) -> None:
    """Positive ``latent_size`` and ``discriminator_steps``, a known loss, a penalty >= 0."""
    checks.positive_int("latent_size", latent_size)
    checks.positive_int("discriminator_steps", discriminator_steps)
    checks.one_of("loss", loss, LOSSES)
    checks.non_negative_number("gradient_penalty", gradient_penalty)


def check_conditioning(conditional: bool, num_classes: Any) -> None:
    """A conditional GAN needs ``num_classes >= 2``; an unconditional one takes none."""
    if conditional and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2
    ):
        raise ConfigError(
            f"a conditional GAN needs the number of classes, an integer >= 2, received "
            f"num_classes={num_classes!r}. Fix: GAN(..., conditional=True, num_classes=10)."
        )
    if not conditional and num_classes is not None:
        raise ConfigError(
            f"num_classes={num_classes!r} is only used by a conditional GAN. "
            f"Fix: pass conditional=True too, or drop num_classes."
        )


def check_class_loss(class_loss: Any, conditional: bool, loss: str) -> None:
    """AC-GAN's class-loss weight: a number >= 0, for a conditional, non-saturating GAN only."""
    checks.non_negative_number("class_loss", class_loss, fix="class_loss=1.0 (AC-GAN) or 0 (off).")
    if class_loss and not conditional:
        raise ConfigError(
            f"class_loss={class_loss} trains the generator to make a class it was asked for, "
            f"so the GAN must be conditional. Fix: GAN(..., conditional=True, num_classes=10)."
        )
    if class_loss and loss != "non_saturating":
        raise ConfigError(
            f"class_loss (AC-GAN) is built for the non-saturating loss, received loss={loss!r}. "
            f"Fix: loss='non_saturating', or class_loss=0 with a conditional critic."
        )


def check_images(x: torch.Tensor) -> None:
    """Float images in [0, 1] (one read of the data's minimum and maximum)."""
    if not x.is_floating_point():
        raise DataError(
            f"a GAN trains on float images in [0, 1], received {x.dtype}. Fix: x / 255.0."
        )
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        raise DataError(
            f"a GAN trains on images in [0, 1], received values in [{low:.3g}, {high:.3g}]. "
            f"Fix: x / 255.0 for 0-255 pixels, (x + 1) / 2 for images in [-1, 1]."
        )


def check_labels(batch: Batch, num_classes: int) -> torch.Tensor:
    """A conditional GAN's batch ``(x, y)``: ``y`` holds one class id in [0, num_classes) each."""
    if len(batch) < 2:
        raise DataError(
            f"a conditional GAN needs each image's class: received images without labels. "
            f"Fix: pass (x, y) with y of class ids in [0, {num_classes})."
        )
    labels = batch[1]
    if labels.is_floating_point() or labels.ndim != 1 or len(labels) == 0:
        raise DataError(
            f"a conditional GAN needs one integer class id per image, shape (N,), received "
            f"{tuple(labels.shape)} {labels.dtype}. Fix: pass class ids, not one-hot rows."
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise DataError(
            f"labels must be class ids in [0, {num_classes}), received ids in [{low}, {high}]. "
            f"Fix: set num_classes={high + 1}, or remap the labels."
        )
    return labels


def check_generated(fake: torch.Tensor, images: torch.Tensor) -> None:
    """The generator's images have the data's per-sample shape."""
    if fake.shape[1:] != images.shape[1:]:
        raise ShapeError(
            f"the generator makes images of per-sample shape {tuple(fake.shape[1:])}, but the "
            f"data has per-sample shape {tuple(images.shape[1:])}. Fix: build the generator "
            f"for {tuple(images.shape[1:])} images (e.g. DCGANGenerator(image_shape=...))."
        )


def check_scores(
    scores: torch.Tensor, images: torch.Tensor, class_outputs: int | None = None
) -> None:
    """One score per image, ``(N,)`` or ``(N, 1)``; for an AC-GAN ``(N, 1 + class_outputs)``."""
    if class_outputs is not None:
        if scores.shape != (len(images), 1 + class_outputs):
            raise ShapeError(
                f"with class_loss (AC-GAN) the discriminator must return a realness score and "
                f"{class_outputs} class logits per image, (N, {1 + class_outputs}); for "
                f"{len(images)} images it returned {tuple(scores.shape)}. Fix: "
                f"DCGANDiscriminator(class_outputs={class_outputs}) (and no num_classes)."
            )
        return
    if scores.numel() != len(images) or len(scores) != len(images):
        raise ShapeError(
            f"the discriminator must return one score per image, (N,) or (N, 1); for "
            f"{len(images)} images it returned {tuple(scores.shape)}. Fix: end it in a linear "
            f"layer with one output."
        )


def run_network(
    network: nn.Module, inputs: torch.Tensor, labels: torch.Tensor | None, name: str
) -> torch.Tensor:
    """``network(inputs[, labels])``; a failure becomes a :class:`ShapeError` with the fix."""
    try:
        return network(inputs) if labels is None else network(inputs, labels)
    except EmberError:
        raise  # already says what is wrong and how to fix it
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        what = f"latent vectors of size {inputs.shape[1]}" if name == "generator" else "the images"
        raise ShapeError(
            f"the {name} could not run on {what}{' with labels' if labels is not None else ''}: "
            f"{error}. Fix: match latent_size and the image shape to the networks (a conditional "
            f"GAN's networks take labels, an unconditional one's do not)."
        ) from error
