"""Ctrl-C during a run: the first finishes the epoch and checkpoints, the second stops now."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from ember.runs.run_callbacks import Checkpointer


@contextlib.contextmanager
def stop_on_ctrl_c(checkpointer: Checkpointer, verbose: int) -> Iterator[None]:
    """First Ctrl-C: finish the epoch, checkpoint, stop. Second Ctrl-C: stop now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        if checkpointer.stop_requested:
            raise KeyboardInterrupt
        checkpointer.stop_requested = True
        if verbose:
            print(
                "\nStopping after this epoch's checkpoint (press Ctrl-C again to stop now; "
                "the last checkpoint is kept)."
            )

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
