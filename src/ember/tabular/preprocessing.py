"""A table's preprocessing, fitted on the training rows and saved with the model as plain JSON."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError
from ember.tabular import columns, encoding

_STATE_KEYS = ("target", "task", "categorical", "numeric", "levels", "medians", "means", "stds")


class TablePreprocessor:
    """Rows of a table -> one float32 tensor ``(N, C + D)``, and the target -> a tensor.

    The first ``C`` columns are the categorical codes (exact integers stored as floats: 0 =
    unknown, 1 = missing, 2.. = the training values in sorted order). The last ``D`` are the
    numeric columns, missing values replaced by the training median, then standardised with the
    training mean and standard deviation (population, ``ddof=0``, of the imputed column; 1 for a
    constant column), followed by one 0/1 "was missing" column per numeric column that had
    missing values in training. Columns not named are given a role by
    :mod:`ember.tabular.columns`' rule; so is the task when ``task`` is None.

    Args:
        target: the column to predict.
        categorical: columns to treat as categorical, whatever their dtype.
        numeric: columns to treat as numeric.
        task: ``"classification"`` or ``"regression"``; None infers it from the target.
        log_target: regression on ``log(target)`` (prices, counts and other skewed positive
            values): :meth:`targets` standardises the logarithm, :meth:`unscale_targets` returns
            ``exp`` of it, so predictions come back in the target's own units.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"colour": ["red", "blue", None], "size": [1.0, None, 3.0],
        ...                       "label": ["yes", "no", "yes"]})
        >>> pre = TablePreprocessor("label").fit(frame)
        >>> pre.categorical, pre.numeric, pre.cardinalities, pre.class_names
        (['colour'], ['size'], [4], ['no', 'yes'])
        >>> pre.transform(frame)  # codes | size standardised (NaN -> median 2) | size was missing
        tensor([[ 3.0000, -1.2247,  0.0000],
                [ 2.0000,  0.0000,  1.0000],
                [ 1.0000,  1.2247,  0.0000]])
        >>> pre.targets(frame)
        tensor([1, 0, 1])
    """

    def __init__(
        self,
        target: str,
        *,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        task: str | None = None,
        log_target: bool = False,
    ) -> None:
        self.target = target
        self.log_target = bool(log_target)
        if self.log_target and task == "classification":
            raise ConfigError(
                "log_target=True is for regression, received task='classification'. "
                "Fix: drop log_target, or pass task='regression'."
            )
        self.categorical: list[str] = list(categorical or [])
        self.numeric: list[str] = list(numeric or [])
        self.task = None if task is None else checks.one_of("task", task, columns.TASKS)
        self._named = (categorical, numeric)
        self.levels: dict[str, list[Any]] = {}  # categorical column -> its training values, sorted
        self.medians: dict[str, float] = {}
        self.means: dict[str, float] = {}
        self.stds: dict[str, float] = {}
        self.indicators: list[str] = []  # numeric columns that had missing values in training
        self.class_names: list[Any] | None = None  # classification: the target's values, sorted
        self.target_mean, self.target_std = 0.0, 1.0  # regression targets' standardisation
        self.fitted = False
        self._warned: set[str] = set()  # columns already warned about unseen values

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, frame: Any) -> TablePreprocessor:
        """Learn the roles, categories, medians, means and standard deviations from ``frame``
        (a DataFrame or a CSV path); returns ``self``."""
        frame = columns.read_table(frame)
        categorical, numeric = columns.infer_roles(frame, self.target, *self._named)
        columns.check_target(frame, self.target)
        target = frame[self.target]
        task = columns.infer_task(target, self.task)
        if self.log_target and task == "classification":
            raise ConfigError(
                f"log_target=True is for regression, but the target {self.target!r} is a "
                f"classification target by its values. Fix: drop log_target, or pass "
                f"task='regression'."
            )
        # Everything is computed first and stored last, so a failed fit changes nothing.
        class_names, target_mean, target_std = None, 0.0, 1.0
        if task == "classification":
            class_names = encoding.sorted_levels(target, self.target)
            if len(class_names) < 2:
                raise DataError(
                    f"the target {self.target!r} has one class ({class_names}); classification "
                    f"needs at least two. Fix: check the target column or the rows passed."
                )
        else:
            values = self._target_values(target)
            target_mean, target_std = float(values.mean()), _std(values)
        levels = {name: encoding.sorted_levels(frame[name], name) for name in categorical}
        medians, means, stds, indicators = {}, {}, {}, []
        for name in numeric:
            values = encoding.numeric_values(frame[name], name)
            missing = np.isnan(values)
            if missing.all():
                raise DataError(
                    f"the numeric column {name!r} has no values in the {len(values)} training "
                    f"rows. Fix: drop the column or pass rows where it is filled."
                )
            medians[name] = float(np.median(values[~missing]))
            imputed = np.where(missing, medians[name], values)
            means[name], stds[name] = float(imputed.mean()), _std(imputed)
            if missing.any():
                indicators.append(name)
        self.categorical, self.numeric, self.task, self.levels = categorical, numeric, task, levels
        self.medians, self.means, self.stds, self.indicators = medians, means, stds, indicators
        self.class_names, self.target_mean, self.target_std = class_names, target_mean, target_std
        self.fitted, self._warned = True, set()
        return self

    def fit_transform(self, frame: Any) -> torch.Tensor:
        """``fit(frame)`` then ``transform(frame)``."""
        frame = columns.read_table(frame)
        return self.fit(frame).transform(frame)

    # -- transforming --------------------------------------------------------------------------
    def transform(self, frame: Any, *, warn: bool = True) -> torch.Tensor:
        """The features of ``frame``'s rows as float32 ``(N, C + D)`` (see the class docstring).

        A categorical value not seen in training becomes code 0; the first time a column has
        such values, a ``UserWarning`` names the column, the count and a few of the values
        (``warn=False``: silently, for held-out rows of the training table, which are expected
        to hold a few rare values).
        """
        self._check_fitted("transform")
        frame = columns.read_table(frame)
        columns.check_present(frame, [*self.categorical, *self.numeric], "feature")
        parts = []
        for name in self.categorical:
            codes, unseen = encoding.category_codes(frame[name], self.levels[name])
            if warn and unseen.any() and name not in self._warned:
                self._warned.add(name)
                examples = frame[name][unseen].unique()[:5].tolist()
                warnings.warn(
                    f"column {name!r}: {int(unseen.sum())} of {len(frame)} rows hold values not "
                    f"seen in training, e.g. {examples}; they are coded as unknown (0). This "
                    f"warning is given once per column.",
                    UserWarning,
                    stacklevel=2,
                )
            parts.append(codes.astype(np.float64))
        missing = {}
        for name in self.numeric:
            values = encoding.numeric_values(frame[name], name)
            missing[name] = np.isnan(values)
            values = np.where(missing[name], self.medians[name], values)
            parts.append((values - self.means[name]) / self.stds[name])
        parts += [missing[name].astype(np.float64) for name in self.indicators]
        features = np.stack(parts, axis=1) if parts else np.zeros((len(frame), 0))
        return torch.from_numpy(features.astype(np.float32))

    def targets(self, frame: Any) -> torch.Tensor:
        """The target column: int64 class indices ``(N,)`` for classification, float32
        standardised values ``(N, 1)`` for regression (:meth:`unscale_targets` undoes it)."""
        self._check_fitted("targets")
        frame = columns.read_table(frame)
        columns.check_target(frame, self.target)
        target = frame[self.target]
        if self.task == "regression":
            values = self._target_values(target)
            scaled = (values - self.target_mean) / self.target_std
            return torch.from_numpy(scaled.astype(np.float32)).reshape(-1, 1)
        codes, unseen = encoding.category_codes(target, self.class_names)
        if unseen.any():
            raise DataError(
                f"the target {self.target!r} holds classes not seen in training: "
                f"{target[unseen].unique()[:5].tolist()} ({int(unseen.sum())} rows); the known "
                f"classes are {self.class_names}. Fix: drop those rows or refit on them."
            )
        return torch.from_numpy(codes - encoding.RESERVED_CODES)

    def unscale_targets(self, values: torch.Tensor) -> torch.Tensor:
        """Regression outputs in standardised units -> the target's own units.

        Example:
            >>> import pandas as pd, torch
            >>> pre = TablePreprocessor("y").fit(pd.DataFrame({"x": [1.0, 2.0], "y": [10.0, 20.0]}))
            >>> pre.unscale_targets(torch.tensor([[-1.0], [1.0]]))
            tensor([[10.],
                    [20.]])
        """
        self._check_fitted("unscale_targets")
        if self.task != "regression":
            raise ConfigError(
                f"unscale_targets is for regression, but this preprocessor's task is "
                f"{self.task!r}. Fix: use the class probabilities as they are."
            )
        values = values * self.target_std + self.target_mean
        return values.exp() if self.log_target else values

    def _target_values(self, target: Any) -> np.ndarray:
        values = encoding.numeric_values(target, self.target)
        if not self.log_target:
            return values
        if (values <= 0).any():
            raise DataError(
                f"log_target=True needs positive values of {self.target!r}, received "
                f"{int((values <= 0).sum())} rows <= 0 (e.g. {values[values <= 0][:3].tolist()}). "
                f"Fix: drop log_target, or drop those rows."
            )
        return np.log(values)

    # -- what the model needs ------------------------------------------------------------------
    @property
    def cardinalities(self) -> list[int]:
        """Codes per categorical column: its training values plus the 2 reserved codes."""
        self._check_fitted("cardinalities")
        return [len(self.levels[name]) + encoding.RESERVED_CODES for name in self.categorical]

    @property
    def embedding_sizes(self) -> list[int]:
        """fastai's rule per categorical column (:func:`ember.tabular.embedding_size`)."""
        return [encoding.embedding_size(n) for n in self.cardinalities]

    @property
    def n_numeric(self) -> int:
        """``D``: the numeric columns plus the "was missing" indicator columns."""
        self._check_fitted("n_numeric")
        return len(self.numeric) + len(self.indicators)

    @property
    def out_features(self) -> int:
        """The network's outputs: one per class, or 1 for regression."""
        self._check_fitted("out_features")
        return 1 if self.task == "regression" else len(self.class_names)

    # -- saving --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything fitted, as plain JSON-ready data (no pickle)."""
        self._check_fitted("state_dict")
        state = {key: getattr(self, key) for key in _STATE_KEYS}
        return state | {
            "indicators": self.indicators,
            "class_names": self.class_names,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            "log_target": self.log_target,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> TablePreprocessor:
        """A fitted preprocessor from :meth:`state_dict`'s data.

        Example:
            >>> import pandas as pd
            >>> pre = TablePreprocessor("y").fit(pd.DataFrame({"x": [1.0, 3.0], "y": [0, 1]}))
            >>> TablePreprocessor.from_state_dict(pre.state_dict()).state_dict() == pre.state_dict()
            True
        """
        missing = [key for key in (*_STATE_KEYS, "indicators", "class_names") if key not in state]
        if missing:
            raise ConfigError(
                f"the preprocessor state lacks {missing}. Fix: pass what "
                f"TablePreprocessor.state_dict() returned (or a folder saved by TablePredictor)."
            )
        pre = cls(state["target"], task=state["task"])
        for key in (*_STATE_KEYS, "indicators", "class_names"):
            setattr(pre, key, state[key])
        pre.target_mean = float(state.get("target_mean", 0.0))
        pre.target_std = float(state.get("target_std", 1.0))
        pre.log_target = bool(state.get("log_target", False))
        pre.fitted = True
        return pre

    def _check_fitted(self, action: str) -> None:
        if not self.fitted:
            raise ConfigError(
                f"cannot {action}: this TablePreprocessor is not fitted yet. "
                f"Fix: call .fit(training_frame) first."
            )


def _std(values: np.ndarray) -> float:
    """The population standard deviation, or 1 for a constant column (which then maps to 0)."""
    std = float(values.std())
    return std if std > 0 else 1.0
