"""Helpers the callbacks share: the monitored value and its mode, log values, argument checks."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from ember.errors import ConfigError
from ember.train.callback import Logs

# A monitored name containing one of these is maximised in mode="auto" (Keras' heuristic).
MAXIMISED_NAMES = ("acc", "auc", "precision", "recall", "f1", "r2")


def _resolve_mode(mode: str, monitor: str) -> str:
    """``"min"`` or ``"max"``: ``"auto"`` maximises accuracy-like names, minimises the rest."""
    if mode not in ("auto", "min", "max"):
        raise ConfigError(f"expected mode='auto', 'min' or 'max', received mode={mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(part in monitor.lower() for part in MAXIMISED_NAMES) else "min"


def _monitored(logs: Logs | None, monitor: str, owner: str) -> float:
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


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ConfigError(f"expected {kind} integer, received {name}={value!r}")
    return value


def _check_number(name: str, value: Any, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ConfigError(f"expected a number, received {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"expected {name} >= {minimum}, received {name}={value!r}")
    return float(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.numel() == 1


def _float(value: Any) -> float:
    """A Python float from a number or a one-element tensor (a device sync for a tensor)."""
    return float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
