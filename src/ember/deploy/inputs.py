"""Reading images, arrays and texts for ``ember predict`` and :class:`ember.deploy.Predictor`,
checked against what the model expects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ember.errors import ConfigError, ShapeError
from ember.nlp.text_inputs import text_encoding

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}


def load_inputs(
    files: Sequence[Path], input_shape: tuple[int, ...], *, resize: bool = False
) -> tuple[list[str], torch.Tensor]:
    """Read images (PNG/JPG) and ``.npy`` arrays as float32 ``(N, H, W, C)`` in [0, 1].

    Each must already have the model's size and channels, unless ``resize`` (then images are
    resized and converted to grey or RGB). A ``.npy`` file may hold one sample or a batch.
    """
    names, samples = [], []
    for path in files:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path} does not exist. Fix: pass image (.png/.jpg) or .npy files.")
        if path.suffix.lower() == ".npy":
            array = _read_array(path, input_shape)
            names += (
                [path.name] if len(array) == 1 else [f"{path.name}[{i}]" for i in range(len(array))]
            )
            samples.append(array)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            names.append(path.name)
            samples.append(_read_image(path, input_shape, resize)[None])
        else:
            raise ConfigError(
                f"{path}: cannot read {path.suffix or 'files without a suffix'}. Fix: pass "
                f"PNG/JPG images or .npy arrays."
            )
    return names, torch.from_numpy(np.concatenate(samples)).float()


def text_inputs(experiment: Any, texts: Sequence[str]) -> tuple[list[str], torch.Tensor]:
    """Token ids for ``texts`` through a text-classification run's tokenizer."""
    if experiment.tokenizer is None or experiment.evaluation != "classification":
        raise ConfigError(
            "--text needs a text-classification run (sentiment-*), whose tokenizer encodes the "
            "texts. Fix: pass a sentiment run, or image files for an image run."
        )
    # Padded to the length the run trained on (the network's first layer knows no other), and
    # cut there, as its training snippets were.
    length = experiment.data.input_shape[0] if experiment.data.input_shape else None
    encoding = text_encoding(
        experiment.network, experiment.tokenizer, length=length, truncation=True
    )
    return [repr(text) for text in texts], encoding.encode(list(texts))


def top_k_lines(
    names: Sequence[str], probabilities: torch.Tensor, class_names: Sequence[str], k: int
) -> list[str]:
    """``shoe.png: Sneaker 91.2% · Sandal 6.0% · Ankle boot 2.1%`` for each input.

    Example:
        >>> top_k_lines(["a"], torch.tensor([[0.1, 0.7, 0.2]]), ["x", "y", "z"], 2)
        ['a: y 70.0% · z 20.0%']
    """
    values, indices = probabilities.topk(min(k, probabilities.shape[-1]), dim=-1)
    return [
        f"{name}: "
        + " · ".join(
            f"{class_names[i]} {100 * p:.1f}%" for p, i in zip(row_p.tolist(), row_i.tolist())
        )
        for name, row_p, row_i in zip(names, values, indices)
    ]


def _read_image(path: Path, input_shape: tuple[int, ...], resize: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    height, width, channels = input_shape
    try:
        image = Image.open(path)
        image.load()
    except (OSError, UnidentifiedImageError) as error:
        raise ConfigError(f"{path} is not a readable image ({error}).") from error
    have_channels = len(image.getbands())
    mode = "L" if channels == 1 else "RGB"
    if (image.height, image.width) != (height, width) or have_channels != channels:
        if not resize:
            raise ShapeError(
                f"{path} is {image.width}x{image.height} with {have_channels} channel(s) "
                f"({image.mode}); the model expects {width}x{height} images with {channels} "
                f"channel(s) ({'grey' if channels == 1 else 'RGB'}). Fix: pass --resize to resize "
                f"and convert it, or give an image of that size."
            )
        image = image.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
    array = (
        np.asarray(image.convert(mode) if image.mode != mode else image, dtype=np.float32) / 255.0
    )
    return array.reshape(height, width, channels)


def _read_array(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path} is not a readable .npy array ({error}).") from error
    if array.dtype.kind not in "uif":
        raise ConfigError(f"{path} holds {array.dtype} values; expected numbers.")
    # integer arrays are 0-255 pixels (as the datasets store them); floats are taken as given
    array = array.astype(np.float32) / (255.0 if array.dtype.kind in "ui" else 1.0)
    shape = tuple(input_shape)
    squeezed = shape[:-1] if shape[-1] == 1 else shape  # (28, 28) stands for (28, 28, 1)
    if array.shape in (shape, squeezed):
        array = array[None]
    if array.shape[1:] == squeezed and squeezed != shape:
        array = array[..., None]
    if array.shape[1:] != shape:
        raise ShapeError(
            f"{path} holds an array of shape {array.shape}; the model expects one sample of "
            f"shape {shape} (or {squeezed}) or a batch (N, {', '.join(map(str, shape))}). Fix: "
            f"reshape it (predict does not resize arrays)."
        )
    return array
