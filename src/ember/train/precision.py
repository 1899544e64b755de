"""Devices and numeric precision: ``device="auto"``, autocast and the fp16 grad scaler."""

from __future__ import annotations

import contextlib

import torch

from ember.errors import ConfigError

FULL = {"32", "32-true", "float32", "fp32"}
BFLOAT16 = {"bf16", "bf16-mixed", "mixed_bfloat16", "bfloat16"}
FLOAT16 = {"16", "16-mixed", "mixed_float16", "fp16", "float16"}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"``/None picks CUDA, then Apple's MPS, then the CPU.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(
            f"unknown device {device!r}. Use 'auto', 'cpu', 'cuda', 'cuda:0' or 'mps'."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={device!r} was requested but CUDA is not available on this machine. "
            f"Fix: use device='cpu' (or 'auto')."
        )
    return resolved


def check_precision(precision: str) -> str:
    """Return the canonical precision name, or raise listing the valid ones."""
    precision = str(precision)
    if precision in FULL:
        return "32"
    if precision in BFLOAT16:
        return "bf16"
    if precision in FLOAT16:
        return "16-mixed"
    raise ConfigError(
        f"unknown precision {precision!r}. Use '32' (full), 'bf16' (bfloat16 autocast) or "
        f"'16-mixed' (float16 autocast with loss scaling, CUDA only)."
    )


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager | None:
    """The autocast context for ``precision`` on ``device``, or None for full precision."""
    precision = check_precision(precision)
    if precision == "32":
        return None
    if precision == "16-mixed" and device.type != "cuda":
        raise ConfigError(
            f"precision='16-mixed' needs a CUDA device, the trainer runs on {device.type}. "
            f"Fix: use precision='bf16' on this device, or '32'."
        )
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device.type, dtype=dtype)


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler | None:
    """A GradScaler for float16 training (small gradients would underflow), else None."""
    if check_precision(precision) == "16-mixed":
        return torch.amp.GradScaler(device.type)
    return None
