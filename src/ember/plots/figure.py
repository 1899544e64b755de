"""A matplotlib figure that needs no display, and its atomic PNG save: every plot of ember.

Figures are drawn on matplotlib's Agg canvas (no pyplot, so no global figure list to leak into)
and saved through :func:`ember.files.atomic_path`. matplotlib is imported on first use.

Example:
    >>> import pathlib, tempfile
    >>> figure = new_figure(4, 3)
    >>> _ = figure.add_subplot().plot([0, 1], [1, 0])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "line.png"
    >>> save_figure(figure, path) is figure and path.stat().st_size > 0
    True
"""

from __future__ import annotations

import os
from typing import Any

from ember.files import atomic_path

DPI = 100
MAX_ANNOTATED_CLASSES = 20  # beyond this, confusion-matrix counts and ROC legends are unreadable


def new_figure(width: float, height: float, layout: str | None = "constrained") -> Any:
    """A ``width`` x ``height`` inch figure on an Agg canvas (``layout``: matplotlib's)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Any, path: str | os.PathLike) -> Any:
    """Write ``figure`` to ``path`` as a PNG, atomically; return it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI)
    return figure
