"""The tabular networks' one input: ``(N, C + D)`` floats, the C categorical codes first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ember import checks
from ember.errors import ConfigError, ShapeError


def check_sizes(
    cardinalities: Any, n_numeric: Any, out_features: Any
) -> tuple[list[int], int, int]:
    """The three sizes every tabular network takes, checked: ``(cardinalities, n_numeric,
    out_features)``.

    Example:
        >>> check_sizes((4, 3), 2, 1)
        ([4, 3], 2, 1)
    """
    cardinalities = list(checks.positive_ints("cardinalities", cardinalities))
    n_numeric = checks.non_negative_int("n_numeric", n_numeric)
    out_features = checks.positive_int("out_features", out_features)
    if not cardinalities and not n_numeric:
        raise ConfigError(
            "a tabular network needs at least one input column, received cardinalities=[] and "
            "n_numeric=0. Fix: build it with TabularMLP.from_preprocessor(preprocessor)."
        )
    return cardinalities, n_numeric, out_features


def split_features(
    x: torch.Tensor, cardinalities: Sequence[int], n_numeric: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` ``(N, C + D)`` -> the int64 codes ``(N, C)`` and the numeric columns ``(N, D)``.

    Example:
        >>> codes, numeric = split_features(torch.tensor([[3.0, 0.5, -1.0]]), [4], 2)
        >>> codes, numeric
        (tensor([[3]]), tensor([[ 0.5000, -1.0000]]))
    """
    n_categorical = len(cardinalities)
    if x.dim() != 2 or x.shape[1] != n_categorical + n_numeric:
        raise ShapeError(
            f"expected features of shape (N, {n_categorical + n_numeric}) ({n_categorical} "
            f"categorical codes, then {n_numeric} numeric columns), received "
            f"{tuple(x.shape)}. Fix: pass TablePreprocessor.transform(frame) of the table the "
            f"network was built for."
        )
    return x[:, :n_categorical].long(), x[:, n_categorical:]
