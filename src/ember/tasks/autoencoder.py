"""The autoencoder task: rebuild the input, optionally from a corrupted copy or a sparse code.

A batch is ``(x,)`` or ``(x, y)``; labels are ignored. The module maps images ``(N, H, W, C)``
in [0, 1] to reconstructions of the same shape. The logged ``reconstruction`` is the mean per
value (Keras' ``binary_crossentropy``/``mse`` on an autoencoder), and

    loss = reconstruction + sparsity_weight * sparsity

where ``sparsity`` is the mean over images of the code's L1 norm (summed over code units).
With ``noise`` (a denoising autoencoder), training inputs are corrupted and the target stays the
clean image; validation and prediction see clean inputs.

When the module has ``encode`` and ``decode_logits`` (ember's autoencoders do), binary
cross-entropy is computed from logits, which stays exact where the sigmoid saturates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ember import checks
from ember.errors import ConfigError, DataError, ShapeError
from ember.train.task import Task

Batch = tuple[torch.Tensor, ...]
LOSSES = ("bce", "mse")
NOISE_LEVELS = {"gaussian": 0.3, "masking": 0.25}  # default std / fraction of pixels zeroed


def gaussian_noise(x: torch.Tensor, std: float) -> torch.Tensor:
    """``x`` plus zero-mean Gaussian noise of standard deviation ``std``, clipped to [0, 1].

    Example:
        >>> noisy = gaussian_noise(torch.full((10_000,), 0.5), std=0.1)
        >>> round(noisy.std().item(), 2), bool(noisy.min() >= 0)
        (0.1, True)
    """
    return (x + std * torch.randn_like(x)).clamp_(0.0, 1.0)


def masking_noise(x: torch.Tensor, fraction: float) -> torch.Tensor:
    """``x`` with a random ``fraction`` of its pixels set to 0, each drawn independently.

    For images ``(N, H, W, C)`` a pixel's channels are zeroed together; other shapes (e.g. flat
    ``(N, D)`` data) lose single values (Vincent et al. 2010's masking noise).

    Example:
        >>> masked = masking_noise(torch.ones(1, 100, 100, 3), fraction=0.25)
        >>> zeroed = (masked == 0).float().mean().item()
        >>> abs(zeroed - 0.25) < 0.03
        True
    """
    shape = (*x.shape[:-1], 1) if x.ndim == 4 else x.shape  # (N, H, W, 1): whole pixels
    keep = torch.rand(shape, device=x.device) >= fraction
    return x * keep


class Autoencoder(Task):
    """Reconstruction of ``x`` (binary cross-entropy or squared error), for any autoencoder module.

    Args:
        module: maps images ``(N, H, W, C)`` to reconstructions of the same shape in [0, 1].
        loss: ``"bce"`` (binary cross-entropy; needs data in [0, 1]) or ``"mse"``.
        noise: ``"gaussian"``, ``"masking"``, a function ``noisy = noise(x)``, or None.
        noise_level: the Gaussian noise's std (default 0.3), or the fraction of pixels masking
            noise zeroes (default 0.25).
        sparsity: weight of the L1 penalty on the codes (needs ``module.encode``/``decode``).

    Example:
        >>> import torch
        >>> from ember.zoo.autoencoders import DenseAutoencoder
        >>> task = Autoencoder(DenseAutoencoder((8, 8, 1), hidden=(16,), code_size=4),
        ...                    noise="masking", sparsity=1e-3)
        >>> out = task.training_step((torch.rand(5, 8, 8, 1),))
        >>> sorted(out)
        ['loss', 'reconstruction', 'sparsity']
    """

    metrics = None  # the step outputs are the scores, averaged by the engine

    def __init__(
        self,
        module: nn.Module,
        loss: str = "bce",
        *,
        noise: str | Callable[[torch.Tensor], torch.Tensor] | None = None,
        noise_level: float | None = None,
        sparsity: float = 0.0,
    ) -> None:
        if loss not in LOSSES:
            raise ConfigError(f"expected loss='bce' or 'mse', received loss={loss!r}")
        checks.non_negative_number("sparsity", sparsity)
        super().__init__(module)
        self.loss = loss
        self.sparsity = float(sparsity)
        self.noise = _noise_function(noise, noise_level)
        has = {name: callable(getattr(module, name, None)) for name in ("encode", "decode")}
        if self.sparsity and not all(has.values()):
            missing = " and ".join(name for name, present in has.items() if not present)
            raise ConfigError(
                f"sparsity={sparsity} penalises the codes, so the module needs encode(x) and "
                f"decode(code) methods; {type(module).__name__} has no {missing}. Fix: use "
                f"ember.models.DenseAutoencoder/ConvAutoencoder, add those methods, or set "
                f"sparsity=0."
            )
        # Logits when the module gives them (stable BCE); else its [0, 1] output.
        self.from_logits = has["encode"] and callable(getattr(module, "decode_logits", None))
        self.forward = self._reconstruct

    # -- set-up ---------------------------------------------------------------------------------
    def setup(self, example: Batch, device: torch.device) -> None:
        """Check the images' dtype and range, and that the module gives back their shape."""
        x = example[0]
        check_images(x, self.loss == "bce", "loss='bce'", "loss='mse'")
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                output, _ = self._reconstruct(x[:2])
        except (RuntimeError, IndexError) as error:
            raise ShapeError(
                f"the autoencoder could not run on images of per-sample shape "
                f"{tuple(x.shape[1:])}: {error}. Fix: build the model with "
                f"input_shape={tuple(x.shape[1:])}, or reshape the data to what it expects."
            ) from error
        finally:
            self.module.train(was_training)
        check_output_shape(output, x[:2], "decoder")

    def compile(self) -> None:
        """Route the forward pass (encoder and decoder) through ``torch.compile``."""
        self.forward = torch.compile(self._reconstruct)

    # -- steps ----------------------------------------------------------------------------------
    def training_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Corrupt the inputs (if ``noise``), reconstruct, compare with the clean images."""
        x = batch[0]
        inputs = x if self.noise is None else self.noise(x)
        return self._losses(inputs, x)

    def validation_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The same losses on clean inputs; run by the engine under ``inference_mode``."""
        return self._losses(batch[0], batch[0])

    def predict_step(self, batch: Batch) -> torch.Tensor:
        """Reconstructions ``(N, H, W, C)`` in [0, 1] of ``batch[0]``."""
        return self.module(batch[0])

    def _reconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(reconstruction, or its logits when ``from_logits``; codes, or None if not needed)."""
        if self.from_logits:
            code = self.module.encode(x)
            return self.module.decode_logits(code), code
        if self.sparsity:
            code = self.module.encode(x)
            return self.module.decode(code), code
        return self.module(x), None

    def _losses(self, inputs: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        output, code = self.forward(inputs)
        if self.loss == "mse":
            prediction = torch.sigmoid(output) if self.from_logits else output
            reconstruction = F.mse_loss(prediction, target)
        elif self.from_logits:
            reconstruction = F.binary_cross_entropy_with_logits(output, target)
        else:
            # torch refuses BCE on probabilities under autocast (float16 would lose it): run it
            # in float32.
            with torch.autocast(output.device.type, enabled=False):
                reconstruction = F.binary_cross_entropy(output.float(), target.float())
        if not self.sparsity:
            return {"loss": reconstruction, "reconstruction": reconstruction}
        sparsity = code.abs().flatten(1).sum(1).mean()
        loss = reconstruction + self.sparsity * sparsity
        return {"loss": loss, "reconstruction": reconstruction, "sparsity": sparsity}


def _noise_function(
    noise: Any, level: float | None
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    if noise is None:
        return None
    if callable(noise):
        return noise
    if not isinstance(noise, str) or noise.lower() not in NOISE_LEVELS:
        raise ConfigError(
            f"expected noise='gaussian', 'masking', a function noisy = noise(x), or None, "
            f"received noise={noise!r}"
        )
    kind = noise.lower()
    level = NOISE_LEVELS[kind] if level is None else level
    limit = float("inf") if kind == "gaussian" else 1.0
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 <= level < limit:
        expected = "a non-negative std" if kind == "gaussian" else "a fraction in [0, 1)"
        raise ConfigError(
            f"expected {expected} for noise={noise!r}, received noise_level={level!r}"
        )
    if kind == "gaussian":
        return lambda x: gaussian_noise(x, level)
    return lambda x: masking_noise(x, level)


def check_images(x: torch.Tensor, bernoulli: bool, what: str, alternative: str) -> None:
    """Raise :class:`DataError` unless ``x`` is floating point, and in [0, 1] if ``bernoulli``.

    ``what`` needs [0, 1] (named in the message); ``alternative`` is the setting that does not.

    Example:
        >>> check_images(torch.rand(2, 4, 4, 1), True, "loss='bce'", "loss='mse'")
    """
    if not x.is_floating_point():
        raise DataError(
            f"an autoencoder trains on float images, received dtype {x.dtype}. Fix: convert "
            f"them, e.g. x.float() / 255 for 8-bit images."
        )
    if bernoulli and x.numel():
        low, high = (float(v) for v in torch.aminmax(x))  # one read, once per fit
        if low < 0 or high > 1:
            fix = "x / 255.0" if high > 1 and low >= 0 else "(x - x.min()) / (x.max() - x.min())"
            raise DataError(
                f"{what} needs images in [0, 1], found values from {low:g} to {high:g}. Fix: "
                f"scale them, e.g. {fix}, or use {alternative}."
            )


def check_output_shape(output: torch.Tensor, x: torch.Tensor, name: str) -> None:
    """Raise :class:`ShapeError` naming both shapes unless the ``name`` output matches the input.

    Example:
        >>> check_output_shape(torch.zeros(2, 3), torch.zeros(2, 3), "decoder")
    """
    if output.shape != x.shape:
        raise ShapeError(
            f"the {name}'s output has shape {tuple(output.shape)} but the input has shape "
            f"{tuple(x.shape)}; a reconstruction must match its input. Fix: make the {name} end "
            f"in the input's shape {tuple(x.shape[1:])} per sample (e.g. a Reshape/Unflatten), "
            f"or build the model with input_shape={tuple(x.shape[1:])}."
        )
