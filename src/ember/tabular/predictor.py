"""Raw rows in, predictions out: a fitted preprocessor and its network, saved and loaded together.

A saved predictor is a folder (written whole, then swapped into place):

* ``config.json``: ``{"format": "ember.tabular", "version": 1, "network": "mlp" |
  "ft_transformer", "network_config": {the constructor's arguments}, "preprocessor":
  {TablePreprocessor.state_dict()}}``;
* ``model.safetensors``: the network's weights.

Loading unpickles nothing and checks every weight's name and shape.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, SaveError
from ember.files import read_json, write_json
from ember.saving import CONFIG_FILE, WEIGHTS_FILE, load_weights, save_directory, save_weights
from ember.tabular.networks import NETWORKS, network_name
from ember.tabular.preprocessing import TablePreprocessor

FORMAT, VERSION = "ember.tabular", 1


class TablePredictor:
    """Predictions for raw table rows (a DataFrame or a CSV path) from a trained network.

    Args:
        preprocessor: the fitted :class:`TablePreprocessor` the network was trained on.
        network: a module taking ``preprocessor.transform(rows)``: logits for classification,
            standardised values ``(N, 1)`` for regression.

    ``history`` holds the training history when :func:`ember.tabular.fit` made the predictor.

    Example:
        >>> import pandas as pd
        >>> from ember.tabular import TablePreprocessor, TabularMLP
        >>> frame = pd.DataFrame({"c": ["a", "b", "a", "b"], "x": [0.1, 0.2, 0.3, 0.4],
        ...                       "y": ["no", "yes", "yes", "no"]})
        >>> pre = TablePreprocessor("y").fit(frame)
        >>> predictor = TablePredictor(pre, TabularMLP.from_preprocessor(pre))
        >>> predictor.predict(frame).shape, predictor.predict_classes(frame).dtype
        ((4, 2), dtype('O'))
    """

    def __init__(self, preprocessor: TablePreprocessor, network: nn.Module) -> None:
        if not isinstance(preprocessor, TablePreprocessor) or not preprocessor.fitted:
            raise ConfigError(
                f"expected a fitted TablePreprocessor, received {preprocessor!r}. "
                f"Fix: pass TablePreprocessor(target).fit(training_frame)."
            )
        if not isinstance(network, nn.Module):
            raise ConfigError(
                f"expected a torch.nn.Module, received {type(network).__name__}. Fix: pass "
                f"the trained network (e.g. TabularMLP.from_preprocessor(preprocessor))."
            )
        _check_sizes_match(preprocessor, network)
        self.preprocessor, self.network = preprocessor, network
        self.history: Any = None

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self.preprocessor.task

    def predict(self, rows: Any, *, batch_size: int = 4096) -> np.ndarray:
        """Class probabilities ``(N, classes)`` (in ``preprocessor.class_names``' order), or
        regression values ``(N,)`` in the target's own units."""
        batch_size = checks.positive_int("batch_size", batch_size)
        features = self.preprocessor.transform(rows)
        was_training = self.network.training
        device = next(iter(self.network.parameters()), torch.empty(0)).device
        self.network.eval()
        try:
            with torch.inference_mode():
                outputs = torch.cat(
                    [
                        self.network(part.to(device)).float().cpu()
                        for part in features.split(batch_size)
                    ]
                )
        finally:
            self.network.train(was_training)
        if self.task == "regression":
            return self.preprocessor.unscale_targets(outputs).reshape(-1).numpy()
        return torch.softmax(outputs, dim=1).numpy()

    def predict_classes(self, rows: Any, *, batch_size: int = 4096) -> np.ndarray:
        """The most probable class of each row, as the target's own values ``(N,)``."""
        if self.task != "classification":
            raise ConfigError(
                "predict_classes is for classification, but this predictor does regression. "
                "Fix: use predict(rows), which returns values in the target's units."
            )
        probabilities = self.predict(rows, batch_size=batch_size)
        names = np.empty(len(self.preprocessor.class_names), dtype=object)
        names[:] = self.preprocessor.class_names
        return names[probabilities.argmax(axis=1)]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the predictor as a folder (see the module docstring); returns its path.

        The folder is written under a temporary name and swapped in, so a failed save leaves an
        existing predictor intact; a path holding anything else is refused.
        """
        path = Path(path)
        config = {
            "format": FORMAT,
            "version": VERSION,
            "network": network_name(self.network),
            "network_config": self.network.config,
            "preprocessor": self.preprocessor.state_dict(),
        }

        def write(folder: Path) -> None:
            write_json(config, folder / CONFIG_FILE)
            save_weights(self.network, folder / WEIGHTS_FILE)

        save_directory(path, write)
        return path


def load(path: str | os.PathLike) -> TablePredictor:
    """A :class:`TablePredictor` from a folder written by :meth:`TablePredictor.save`.

    Example:
        >>> load("no/such/folder")
        Traceback (most recent call last):
        ...
        ember.errors.SaveError: no saved table predictor at no/such/folder. Fix: pass a folder written by TablePredictor.save.
    """
    path = Path(path)
    if not (path / CONFIG_FILE).is_file():
        raise SaveError(
            f"no saved table predictor at {path}. Fix: pass a folder written by "
            f"TablePredictor.save."
        )
    config = read_json(path / CONFIG_FILE)
    if config.get("format") != FORMAT or config.get("version") != VERSION:
        raise SaveError(
            f"{path} holds format {config.get('format')!r} version {config.get('version')!r}, "
            f"not {FORMAT!r} version {VERSION}. Fix: pass a folder written by "
            f"TablePredictor.save (ember.load_model reads Keras-style model folders)."
        )
    network = NETWORKS.get(config["network"])(**config["network_config"])
    load_weights(network, path / WEIGHTS_FILE)
    return TablePredictor(TablePreprocessor.from_state_dict(config["preprocessor"]), network)


def _check_sizes_match(preprocessor: TablePreprocessor, network: nn.Module) -> None:
    """A network that records its sizes (ours do) must fit the preprocessor's output."""
    config = getattr(network, "config", None)
    if not isinstance(config, dict):
        return
    expected = {
        "cardinalities": preprocessor.cardinalities,
        "n_numeric": preprocessor.n_numeric,
        "out_features": preprocessor.out_features,
    }
    received = {key: config.get(key) for key in expected}
    if received != expected:
        raise ConfigError(
            f"the network was built for {received}, but the preprocessor gives {expected}. "
            f"Fix: build it with {type(network).__name__}.from_preprocessor(preprocessor)."
        )
