"""Helpers the callbacks share: the monitored value and its mode, and log values."""

from __future__ import annotations

from typing import Any

import torch

from ember.errors import ConfigError
from ember.train.callback import Logs

# A monitored name containing one of these is maximised in mode="auto" (Keras' heuristic).
MAXIMISED_NAMES = ("acc", "auc", "precision", "recall", "f1", "r2", "top")


def resolve_mode(mode: str, monitor: str) -> str:
    """``"min"`` or ``"max"``: ``"auto"`` maximises accuracy-like names, minimises the rest."""
    if mode not in ("auto", "min", "max"):
        raise ConfigError(f"expected mode='auto', 'min' or 'max', received mode={mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(part in monitor.lower() for part in MAXIMISED_NAMES) else "min"


def monitored_value(logs: Logs | None, monitor: str, owner: str) -> float:
    """The monitored value as a float, or a ConfigError naming the logs that exist."""
    logs = logs or {}
    if monitor not in logs:
        fix = (
            "pass validation data to fit (validation_data=...), or monitor='loss'"
            if monitor.startswith("val_")
            else "monitor one of the available names, e.g. monitor='loss'"
        )
        raise ConfigError(
            f"{owner} monitors {monitor!r}, which is not in the logs; available: "
            f"{sorted(logs)}. Fix: {fix}."
        )
    return float(logs[monitor])


def is_scalar(value: Any) -> bool:
    """True for a one-element tensor (a value a callback may read from the device)."""
    return isinstance(value, torch.Tensor) and value.numel() == 1


def to_float(value: Any) -> float:
    """A Python float from a number or a one-element tensor (a device sync for a tensor)."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
