"""Why a classifier decided: saliency, SmoothGrad, integrated gradients and Grad-CAM.

Each method takes a batch of inputs as the model takes them (ember's images: ``(N, H, W, C)``,
channels last; torch's: ``(N, C, H, W)``) and the classes to explain (default: the predicted
ones), and returns one heat map per image, ``(N, H, W)``, non-negative:

* ``saliency``: the gradient of the class score with respect to the pixels (Simonyan et al.
  2014), its largest absolute value over the channels; Captum's ``Saliency``;
* ``smoothgrad``: the same averaged over noisy copies of the image (Smilkov et al. 2017);
  Captum's ``NoiseTunnel``;
* ``ig``: integrated gradients from a black image (Sundararajan et al. 2017), Captum's
  ``IntegratedGradients``; their sum over the pixels equals ``f(x) - f(baseline)`` for the
  class score (completeness), which :func:`integrated_gradients` checks to within 1%;
* ``gradcam``: the last convolution's feature maps weighted by their mean gradient, through a
  ReLU, upsampled to the image (Selvaraju et al. 2017). Captum's ``LayerGradCam`` assumes
  channels-first feature maps, so ember computes it for either layout (one forward hook).

Scores are the model's logits where it has them (``Sequential.logits``): gradients of
saturated softmax probabilities vanish.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                           torch.nn.Linear(4 * 6 * 6, 3))
    >>> explain(net, torch.rand(2, 1, 8, 8), "gradcam").shape
    torch.Size([2, 8, 8])
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember import attacks, checks
from ember.errors import ConfigError, ShapeError
from ember.layers.conv import Conv2D

METHODS = ("saliency", "smoothgrad", "ig", "gradcam")
CONVOLUTIONS = (nn.Conv2d, Conv2D)  # what Grad-CAM can explain through


def explain(
    model: nn.Module,
    images: torch.Tensor,
    method: str = "gradcam",
    target: torch.Tensor | int | None = None,
    *,
    layer: nn.Module | str | None = None,
    samples: int = 25,
    noise: float = 0.15,
    steps: int = 64,
) -> torch.Tensor:
    """One heat map ``(N, H, W)`` per image for class ``target`` (default: the predicted class).

    ``layer`` (Grad-CAM): the convolution, or its name in ``model.named_modules()``; default the
    last one. ``samples``/``noise`` (SmoothGrad): noisy copies and their standard deviation as a
    fraction of the pixel range; ``steps`` (integrated gradients): points along the path.
    """
    checks.one_of("method", method, METHODS, fix="--method gradcam (or saliency, smoothgrad, ig)")
    images = _checked_images(images)
    with attacks.evaluation_mode(model):
        with warnings.catch_warnings():
            # Captum says it set requires_grad on the inputs: how it works, not news to a user.
            warnings.filterwarnings("ignore", message="Input Tensor .* did not already require")
            targets = _targets(model, images, target)
            if method == "gradcam":
                maps = grad_cam(model, images, targets, layer=layer)
            elif method == "ig":
                attributions = integrated_gradients(model, images, targets, steps=steps)[0]
                maps = _channel_max(attributions, images)
            else:
                maps = _channel_max(
                    _saliency(model, images, targets, method, samples, noise), images
                )
    return maps.detach()


def _saliency(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    method: str,
    samples: int,
    noise: float,
) -> torch.Tensor:
    from captum.attr import NoiseTunnel, Saliency

    saliency = Saliency(attacks.logits_of(model))
    if method == "saliency":
        return saliency.attribute(images, target=targets, abs=True)
    return NoiseTunnel(saliency).attribute(
        images,
        nt_type="smoothgrad",
        nt_samples=checks.positive_int("samples", samples),
        stdevs=float(noise) * float(images.max() - images.min() or 1.0),
        target=targets,
        abs=True,
    )


def integrated_gradients(
    model: nn.Module,
    images: torch.Tensor,
    target: torch.Tensor,
    *,
    baseline: torch.Tensor | float = 0.0,
    steps: int = 64,
    tolerance: float = 0.01,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrated gradients (the input's shape) and each image's completeness gap: the
    attributions' sum minus ``f(x) - f(baseline)``, checked to be within ``tolerance`` of
    ``|f(x) - f(baseline)|`` (with a small floor) — more ``steps`` if not."""
    from captum.attr import IntegratedGradients

    forward = attacks.logits_of(model)
    method = IntegratedGradients(forward)
    baselines = torch.full_like(images, baseline) if not torch.is_tensor(baseline) else baseline
    attributions, delta = method.attribute(
        images,
        baselines=baselines,
        target=target,
        n_steps=checks.positive_int("steps", steps),
        method="gausslegendre",
        return_convergence_delta=True,
    )
    with torch.no_grad():
        index = target.view(-1, 1)
        change = forward(images).gather(1, index) - forward(baselines).gather(1, index)
    allowed = tolerance * change.abs().view(-1).clamp_min(1e-3)
    if (delta.abs() > allowed).any():
        raise ConfigError(
            f"integrated gradients are incomplete with {steps} steps: their sum misses "
            f"f(x) - f(baseline) by up to {float(delta.abs().max()):.3g} (allowed "
            f"{float(allowed.min()):.3g}). Fix: more steps, e.g. steps={steps * 4}."
        )
    return attributions, delta


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target: torch.Tensor,
    *,
    layer: nn.Module | str | None = None,
) -> torch.Tensor:
    """Grad-CAM maps ``(N, H, W)`` on ``layer`` (default: the last convolution), upsampled."""
    layer = find_convolution(model, layer)
    maps_last = getattr(layer, "channels_last", False)  # ember's Conv2D: (N, h, w, C) maps
    captured: dict[str, torch.Tensor] = {}

    def keep(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        captured["maps"] = output

    handle = layer.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            # The input takes part in the graph, so frozen layers before `layer` still pass a
            # gradient path (a frozen backbone's convolution has no grad_fn of its own).
            scores = attacks.logits_of(model)(images.detach().requires_grad_(True))
            chosen = scores.gather(1, target.view(-1, 1)).sum()
            (gradient,) = torch.autograd.grad(chosen, captured["maps"])
    finally:
        handle.remove()
    maps = captured["maps"].detach()
    if maps_last:  # (N, h, w, C) -> (N, C, h, w)
        maps, gradient = maps.movedim(-1, 1), gradient.movedim(-1, 1)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * maps).sum(1, keepdim=True))
    height, width = _spatial(images)
    return F.interpolate(cam, size=(height, width), mode="bilinear", align_corners=False)[:, 0]


def find_convolution(model: nn.Module, layer: nn.Module | str | None = None) -> nn.Module:
    """``layer`` (a module or its name) or ``model``'s last 2-D convolution."""
    if isinstance(layer, nn.Module):
        return layer
    named = dict(model.named_modules())
    if isinstance(layer, str):
        if layer not in named:
            close = [n for n in named if n and layer in n][:5]
            raise ConfigError(
                f"{type(model).__name__} has no layer named {layer!r}. Fix: one of "
                f"{close or [n for n, m in named.items() if isinstance(m, CONVOLUTIONS)]}."
            )
        return named[layer]
    convolutions = [m for m in named.values() if isinstance(m, CONVOLUTIONS)]
    if not convolutions:
        parts = getattr(model, "layers", None)  # an ember Sequential: its layers, in order
        if not isinstance(parts, nn.ModuleList):
            parts = [m for m in named.values() if m is not model and not any(m.children())]
        kinds = list(dict.fromkeys(type(m).__name__ for m in parts))
        raise ConfigError(
            f"Grad-CAM explains through a 2-D convolution (ember Conv2D or torch.nn.Conv2d), "
            f"and {type(model).__name__} has none (its layers: {', '.join(kinds) or 'none'}). "
            f"Fix: --method saliency, smoothgrad or ig, which need no convolution."
        )
    return convolutions[-1]


def _targets(model: nn.Module, images: torch.Tensor, target: Any) -> torch.Tensor:
    if target is None:
        with torch.no_grad():
            return attacks.logits_of(model)(images).argmax(-1)
    target = torch.as_tensor(target, device=images.device).long()
    return target.expand(len(images)) if target.ndim == 0 else target


def _checked_images(images: torch.Tensor) -> torch.Tensor:
    if not torch.is_tensor(images) or images.ndim != 4 or not images.is_floating_point():
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise ShapeError(
            f"expected a batch of float images (N, H, W, C) or (N, C, H, W), received {shape}. "
            f"Fix: add the batch axis (images[None]) and scale pixels to [0, 1]."
        )
    return images.detach()


def channels_last(sample_shape: Sequence[int]) -> bool:
    """Whether images of per-sample ``sample_shape`` are ``(H, W, C)`` (ember's) rather than
    ``(C, H, W)`` (torch's): the channels are the small last axis (ember's layout when in doubt,
    as for a 3x3 RGB kernel).

    Example:
        >>> channels_last((28, 28, 1)), channels_last((3, 32, 32))
        (True, False)
    """
    return sample_shape[-1] <= 4 and sample_shape[-1] <= sample_shape[0]


def _spatial(images: torch.Tensor) -> tuple[int, int]:
    """Height and width of a batch of images in either layout."""
    if channels_last(images.shape[1:]):
        return images.shape[1], images.shape[2]
    return images.shape[2], images.shape[3]


def _channel_max(raw: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Per-pixel largest |attribution| over the channels, ``(N, H, W)``."""
    return raw.abs().amax(dim=3 if channels_last(images.shape[1:]) else 1)
