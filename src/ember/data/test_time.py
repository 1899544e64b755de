"""Test-time augmentation: predict on several views of each batch and average the outputs.

:func:`with_test_time_augmentation` wraps a network into ``x -> mean over t of network(t(x))``;
``Model.predict(x, tta="flip")`` uses it with the image and its mirror image. (Its name does not
start with ``test``: pytest collects this file, ``test_*.py``, and would take it for a test.)

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    >>> predict = with_test_time_augmentation(net, "flip", outputs="logits")
    >>> images = torch.rand(2, 2, 2, 3)  # (N, H, W, C)
    >>> expected = (net(images).softmax(-1) + net(images.flip(2)).softmax(-1)) / 2
    >>> torch.allclose(predict(images), expected)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ember import checks
from ember.errors import ConfigError

__all__ = ["PRESETS", "TRANSFORMS", "with_test_time_augmentation"]

Transform = Callable[[torch.Tensor], torch.Tensor]

# Image axes of a batch in each layout: (height, width).
_AXES = {"channels_last": (1, 2), "channels_first": (2, 3)}  # (N, H, W, C) / (N, C, H, W)

TRANSFORMS = ("identity", "horizontal_flip", "vertical_flip")
PRESETS = {"flip": ("identity", "horizontal_flip")}


def with_test_time_augmentation(
    network: Callable[[torch.Tensor], torch.Tensor],
    transforms: str | Sequence[str | Transform] = "flip",
    *,
    outputs: str = "probabilities",
    data_format: str = "channels_last",
) -> Transform:
    """A function ``x -> mean over transforms t of network(t(x))``, for predicting.

    Args:
        network: the model; called once per transform on the whole batch.
        transforms: names from ``TRANSFORMS`` ("identity", "horizontal_flip" mirrors the width
            axis, "vertical_flip" the height axis), functions ``batch -> batch``, or a preset
            name ("flip": the image and its mirror image).
        outputs: what ``network`` returns. "probabilities" (a softmax model, or any output
            that is averaged as it is); "logits": softmax over the last axis first, so the
            result is the mean of the probabilities.
        data_format: ``"channels_last"`` (N, H, W, C) or ``"channels_first"`` (N, C, H, W):
            says which axis the flips reverse.

    Example:
        >>> import torch
        >>> images = torch.arange(4.0).view(1, 1, 4, 1)  # (N, H, W, C): one row of 4 pixels
        >>> with_test_time_augmentation(torch.nn.Identity())(images).flatten().tolist()
        [1.5, 1.5, 1.5, 1.5]
    """
    if isinstance(transforms, str):
        transforms = PRESETS.get(transforms, (transforms,))
    if not isinstance(transforms, Sequence) or not transforms:
        raise ConfigError(
            f"expected a non-empty list of transforms, received transforms={transforms!r}. "
            f"Fix: e.g. transforms=['identity', 'horizontal_flip']."
        )
    checks.one_of("outputs", outputs, ("probabilities", "logits"))
    height, width = _AXES[checks.one_of("data_format", data_format, tuple(_AXES))]
    named = {
        "identity": lambda x: x,
        "horizontal_flip": lambda x: x.flip(width),
        "vertical_flip": lambda x: x.flip(height),
    }
    views = []
    for transform in transforms:
        if callable(transform):
            views.append(transform)
        else:
            fix = f"pass a function batch -> batch, or a preset: {', '.join(PRESETS)}"
            views.append(named[checks.one_of("transform", transform, TRANSFORMS, fix=fix)])

    def predict(x: torch.Tensor) -> torch.Tensor:
        # A running sum, not a stack of every view's outputs: one extra output's memory.
        total = None
        for view in views:
            output = network(view(x))
            if outputs == "logits":
                output = float32_softmax(output)
            total = output if total is None else total + output
        return total / len(views)

    return predict


def float32_softmax(logits: torch.Tensor) -> torch.Tensor:
    """``softmax`` over the last axis in float32, also inside a bfloat16 autocast region (which
    would run it in bfloat16: probabilities off by up to 1e-3, not summing to 1).

    Example:
        >>> with torch.autocast("cpu", dtype=torch.bfloat16):
        ...     probabilities = float32_softmax(torch.randn(4, 10))
        >>> probabilities.dtype, bool(torch.allclose(probabilities.sum(-1), torch.ones(4)))
        (torch.float32, True)
    """
    with torch.autocast(logits.device.type, enabled=False):
        return torch.softmax(logits.float(), -1)
