"""What a run ended with: :class:`RunResult`, returned by ``train``, ``resume`` and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.runs import metrics_log


@dataclass
class RunResult:
    """What a run ended with."""

    run_dir: Path
    epochs_done: int
    epochs: int
    interrupted: bool = False
    last_epoch: dict[str, Any] = field(default_factory=dict)  # the last metrics.jsonl epoch line
    test: dict[str, Any] | None = None  # test metrics, when the run finished
    # The final evaluation of a run without a test split is of its validation split instead.
    validation: dict[str, Any] | None = None
    report: Path | None = None

    @property
    def finished(self) -> bool:
        """Whether every epoch ran."""
        return self.epochs_done >= self.epochs and not self.interrupted

    @classmethod
    def from_log(cls, run_dir: Path, epochs: int, interrupted: bool) -> RunResult:
        """What ``run_dir/metrics.jsonl`` says a run of ``epochs`` epochs has done so far."""
        logged = metrics_log.epochs(run_dir / metrics_log.METRICS_FILE)
        done = logged[-1]["epoch"] if logged else 0
        return cls(run_dir, done, epochs, interrupted, logged[-1] if logged else {})
