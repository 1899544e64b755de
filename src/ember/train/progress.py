"""Keras-style progress output, rendered with rich.

``verbose=1``: a live bar per epoch in a terminal (``1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step -
accuracy: 0.8770 - loss: 0.4350``), its final state as one line elsewhere. ``verbose=2``: one line
per epoch. ``verbose=0``: silent. The bar redraws at most ten times a second and reads the running
loss from the device only then, so it costs nothing measurable per step.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress_bar import ProgressBar as RichBar
from rich.text import Text

from ember.train.callback import Callback, Logs

REFRESH_SECONDS = 0.1
BAR_WIDTH = 20


def format_logs(logs: Logs) -> str:
    """``accuracy: 0.9123 - loss: 0.2950`` for the scalar entries of ``logs``, sorted like Keras."""
    parts = []
    for name in sorted(logs):
        value = logs[name]
        if isinstance(value, (int, float)):
            parts.append(f"{name}: {value:.4f}")
    return " - ".join(parts)


def format_duration(seconds: float) -> str:
    """Keras' compact durations: ``3s``, ``2m 05s``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s"


def format_step_time(seconds: float) -> str:
    """``1ms/step``, ``250us/step``, ``2s/step``."""
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class ProgressBar(Callback):
    """Prints Keras' per-epoch progress; added by ``fit``/``evaluate`` when ``verbose`` > 0."""

    def __init__(self, verbose: int = 1, console: Console | None = None) -> None:
        self.verbose = verbose
        self.console = console or Console(highlight=False)
        self._live = self.verbose == 1 and self.console.is_terminal
        self._fitting = False

    # -- fit ----------------------------------------------------------------------------------
    def on_fit_start(self, logs: Logs | None = None) -> None:
        self._fitting = True  # fit's validation passes print nothing of their own (as Keras)

    def on_fit_end(self, logs: Logs | None = None) -> None:
        self._fitting = False

    def on_epoch_start(self, epoch: int, logs: Logs | None = None) -> None:
        self.console.print(f"Epoch {epoch + 1}/{self.trainer.epochs}")
        self._start = time.perf_counter()
        self._next_draw = self._start + REFRESH_SECONDS

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if not self._live:
            return
        now = time.perf_counter()
        if now < self._next_draw:
            return
        self._next_draw = now + REFRESH_SECONDS
        self._draw(batch + 1, self.trainer.running_logs(), now, end="\r")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        steps = self.trainer.steps_done
        self._print_final(steps, logs or {})
        # Text in the logs (e.g. a language model's sample) goes below the numbers, as written.
        for name, value in (logs or {}).items():
            if isinstance(value, str):
                self.console.print(f"{name}: {value}", markup=False, highlight=False)

    # -- evaluate -----------------------------------------------------------------------------
    def on_evaluate_start(self, logs: Logs | None = None) -> None:
        if not self._fitting:
            self._start = time.perf_counter()

    def on_evaluate_end(self, logs: Logs | None = None) -> None:
        if not self._fitting:
            self._print_final(self.trainer.steps_done, logs or {})

    # -- drawing ------------------------------------------------------------------------------
    def _print_final(self, steps: int, logs: Logs) -> None:
        now = time.perf_counter()
        if self.verbose == 1:
            self._draw(steps, logs, now, end="\n")
        elif self.verbose >= 2:
            elapsed = now - self._start
            per_step = format_step_time(elapsed / max(steps, 1))
            line = f"{steps}/{steps} - {format_duration(elapsed)} - {per_step}"
            metrics = format_logs(logs)
            self.console.print(line + (f" - {metrics}" if metrics else ""), soft_wrap=True)

    def _draw(self, done: int, logs: dict[str, Any], now: float, end: str) -> None:
        total = self.trainer.steps_per_epoch or done
        elapsed = now - self._start
        per_step = elapsed / max(done, 1)
        timing = format_duration(elapsed if done >= total else per_step * (total - done))
        width = len(str(total))
        line = Text(f"{done:>{width}}/{total} ")
        bar = RichBar(total=total, completed=done, width=BAR_WIDTH)
        for segment in self.console.render(bar):
            if segment.text.strip():
                line.append(segment.text, segment.style)
        line.append(f" {timing} {format_step_time(per_step)}")
        metrics = format_logs(logs)
        if metrics:
            line.append(f" - {metrics}")
        if end == "\r":
            # A redrawn line must fit the terminal, or the next redraw lands on a new row.
            self.console.print(line, end=end, overflow="crop", no_wrap=True)
        else:
            self.console.print(line, end=end, soft_wrap=True)  # the epoch's last word: in full
