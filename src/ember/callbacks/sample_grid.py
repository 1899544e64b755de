"""SampleGrid: after each epoch, save a grid of a GAN's samples from fixed noise as a PNG."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember.errors import ConfigError
from ember.files import atomic_path
from ember.train.callback import Callback, Logs


class SampleGrid(Callback):
    """Writes ``folder/epoch-001.png``, ``epoch-002.png`` ...: the generator's samples each epoch.

    The noise is drawn once, from the callback's own seeded ``torch.Generator``, so every grid
    shows the same latent vectors (the images change only with training) and the training's
    random numbers are never disturbed (a resumed run stays exact). Sampling runs the generator
    in eval mode. A conditional GAN's grid has one column per class. Each file is written
    atomically (a temporary file renamed into place).

    Args:
        sampler: what draws the images: a GAN task, or anything with ``latent_size`` and
            ``generate(latents, labels)`` (and ``conditional``, ``num_classes`` when conditional).
        folder: where the PNG files go (created if missing).
        num_samples: how many images per grid.
        columns: images per row (default: one per class for a conditional GAN, else a square).
        seed: the noise's seed.
        padding: pixels of white between images.


    Example:
        >>> import pathlib, tempfile, torch, ember
        >>> from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
        >>> from ember.tasks.gan import GAN
        >>> gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
        >>> folder = tempfile.mkdtemp()
        >>> grids = SampleGrid(gan, folder, num_samples=16)
        >>> trainer = ember.Trainer(gan, epochs=2, device="cpu", callbacks=[grids])
        >>> _ = trainer.fit(torch.rand(32, 28, 28, 1), batch_size=16, verbose=0)
        >>> sorted(p.name for p in pathlib.Path(folder).iterdir())
        ['epoch-001.png', 'epoch-002.png']
    """

    def __init__(
        self,
        sampler: Any,
        folder: str | Path,
        num_samples: int = 64,
        *,
        columns: int | None = None,
        seed: int = 0,
        padding: int = 2,
    ) -> None:
        for name, value in [("num_samples", num_samples), ("columns", columns or 1)]:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"expected a positive integer, received {name}={value!r}")
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ConfigError(f"expected a non-negative integer, received padding={padding!r}")
        if not (callable(getattr(sampler, "generate", None)) and hasattr(sampler, "latent_size")):
            raise ConfigError(
                f"SampleGrid draws a generative task's samples; {type(sampler).__name__} has no "
                f"generate(latents, labels) and latent_size. Fix: pass ember's GAN task."
            )
        self.sampler = sampler
        self.folder = Path(folder)
        self.num_samples = num_samples
        self.columns = columns
        self.seed = seed
        self.padding = padding
        self.noise: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None
        self.paths: list[Path] = []

    def on_fit_start(self, logs: Logs | None = None) -> None:
        task = self.sampler
        generator = torch.Generator().manual_seed(self.seed)  # on the CPU: same noise anywhere
        self.noise = torch.randn(self.num_samples, task.latent_size, generator=generator)
        num_classes = getattr(task, "num_classes", None) if getattr(task, "conditional", 0) else 0
        self.labels = torch.arange(self.num_samples) % num_classes if num_classes else None
        if self.columns is None:
            self.columns = num_classes or math.ceil(math.sqrt(self.num_samples))

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        images = self.sampler.generate(self.noise, self.labels)  # (N, H, W, C) in [0, 1]
        grid = image_grid(images.float().cpu().numpy(), self.columns, self.padding)
        path = self.folder / f"epoch-{epoch + 1:03d}.png"
        save_png(grid, path)
        self.paths.append(path)


def image_grid(images: np.ndarray, columns: int, padding: int = 2) -> np.ndarray:
    """Tile images ``(N, H, W, C)`` into one ``(rows * (H + p) + p, columns * (W + p) + p, C)``.

    Empty cells and the padding are white (1.0).

    Example:
        >>> image_grid(np.zeros((5, 4, 4, 1)), columns=3, padding=1).shape
        (11, 16, 1)
    """
    count, height, width, channels = images.shape
    rows = math.ceil(count / columns)
    cells = np.ones((rows * columns, height + padding, width + padding, channels), images.dtype)
    cells[:count, padding:, padding:] = np.clip(images, 0, 1)
    # (rows, columns, h, w, C) -> (rows, h, columns, w, C): each image row next to its neighbours
    grid = cells.reshape(rows, columns, height + padding, width + padding, channels)
    grid = grid.transpose(0, 2, 1, 3, 4).reshape(rows * (height + padding), -1, channels)
    bottom = np.ones((padding, grid.shape[1], channels), images.dtype)
    right = np.ones((grid.shape[0] + padding, padding, channels), images.dtype)
    return np.concatenate([np.concatenate([grid, bottom]), right], axis=1)


def save_png(image: np.ndarray, path: str | Path, scale: int = 1) -> None:
    """Write an image ``(H, W, C)`` in [0, 1] (C = 1 grey, 3 colour) as a PNG, atomically.

    ``scale`` repeats every pixel into a ``scale`` x ``scale`` block (28-pixel images are small
    on a screen; nothing is interpolated).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
        >>> save_png(np.ones((4, 6, 1)), path, scale=2)
        >>> path.read_bytes()[:4]
        b'\\x89PNG'
    """
    from matplotlib.image import imsave

    if scale != 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    pixels: Any = image[..., 0] if image.shape[-1] == 1 else image
    with atomic_path(path) as temporary:
        # One pixel per image pixel: no axes, no resampling.
        imsave(temporary, pixels, cmap="gray", vmin=0.0, vmax=1.0, format="png")
