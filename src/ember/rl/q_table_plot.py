"""A FrozenLake Q-table drawn on its map: how much each cell is worth, and which way to go.

Example:
    >>> import pathlib, tempfile
    >>> table = QTable(16, 4)
    >>> table.values[14, 2] = 1.0  # next to the goal: go right
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "q-table.png"
    >>> figure = plot_q_table(table, ["SFFF", "FHFH", "FFFH", "HFFG"], path)
    >>> path.stat().st_size > 0, figure.axes[1].get_ylabel()
    (True, 'max Q')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ember.errors import ConfigError
from ember.plots.figure import new_figure, save_figure
from ember.rl.tabular import QTable

# FrozenLake's actions as (column, row) steps on the drawing, whose rows run downwards.
DIRECTIONS = {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}  # left, down, right, up
# Terminal cells' values stay 0, so they get colours of their own: white is in no part of viridis.
TERMINAL = {"H": ("hole", "#1a1a1a"), "G": ("goal", "white")}
MAX_ANNOTATED_SIDE = 8  # beyond 8x8 cells, four numbers per cell no longer fit


def plot_q_table(
    table: QTable | torch.Tensor | np.ndarray,
    desc: Sequence[Any],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    show_values: bool = True,
) -> Any:
    """Draw a FrozenLake ``table`` (``(rows * columns, 4)`` values) on its map; return the figure.

    ``desc`` is the map, ``env.unwrapped.desc`` (bytes such as ``b"H"``) or strings like
    ``["SFFF", "FHFH", ...]``. Each cell is coloured by ``max_a Q`` (the colour bar), holes are
    dark and the goal white, and an arrow shows the greedy action (0 left, 1 down, 2 right, 3 up),
    except where all four values are equal (a state never learned from). With ``show_values``
    (on maps up to 8x8) each action's value is written on its side of the cell.

    On the slippery lake a move goes where it was meant only a third of the time (else to either
    side), so the best arrow often points away from a hole rather than towards the goal.
    """
    values = _values(table)
    letters = _letters(desc)
    rows, columns = len(letters), len(letters[0])
    if values.shape != (rows * columns, len(DIRECTIONS)):
        raise ConfigError(
            f"expected a Q-table of shape ({rows * columns}, 4) for a {rows}x{columns} map, "
            f"received shape {values.shape}. Fix: pass the table learned on this map "
            f"(agent.table) and its env.unwrapped.desc."
        )
    best = values.max(axis=1).reshape(rows, columns)
    side = float(np.clip(1.4 * max(rows, columns), 5.0, 11.0))
    figure = new_figure(side + 1.4, side + 0.9)
    axes = figure.add_subplot()
    image = axes.imshow(best, cmap="viridis", vmin=min(0.0, best.min()), vmax=max(best.max(), 1e-6))
    colour_bar = figure.colorbar(image, ax=axes, shrink=0.8)
    colour_bar.set_label("max Q")
    font = 10 * 4 / max(rows, columns, 4)  # letters shrink with the cells
    for row in range(rows):
        for column in range(columns):
            letter = letters[row][column]
            cell_values = values[row * columns + column]
            # Light text on the dark end of viridis, dark text on its bright end.
            ink = "black" if image.norm(best[row, column]) > 0.6 else "white"
            if letter in TERMINAL:
                word, fill = TERMINAL[letter]
                ink = "white" if letter == "H" else "darkgreen"
                axes.add_patch(_square(column, row, fill))
                axes.text(
                    column, row, word, ha="center", va="center", color=ink, fontsize=font,
                    fontweight="bold" if letter == "G" else "normal",
                )  # fmt: skip
            else:
                if not np.all(cell_values == cell_values[0]):
                    _arrow(axes, column, row, int(cell_values.argmax()))
                if show_values and max(rows, columns) <= MAX_ANNOTATED_SIDE:
                    _numbers(axes, column, row, cell_values, ink, 0.7 * font)
            axes.text(
                column - 0.45, row - 0.45, letter, ha="left", va="top", color=ink,
                fontsize=0.8 * font, fontweight="bold",
            )  # fmt: skip
    axes.set_xticks(np.arange(columns + 1) - 0.5, minor=True)
    axes.set_yticks(np.arange(rows + 1) - 0.5, minor=True)
    axes.grid(which="minor", color="white", linewidth=2)
    axes.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    axes.set_title(title or "Q-table: colour = best value, arrow = greedy action")
    figure.text(
        0.5, 0.01,
        "S start, F frozen, H hole, G goal. Small numbers: the value of moving that way.",
        ha="center", va="bottom", fontsize=9,
    )  # fmt: skip
    return save_figure(figure, path)


def _values(table: QTable | torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(table, QTable):
        table = table.values
    if isinstance(table, torch.Tensor):
        table = table.detach().cpu().numpy()
    return np.asarray(table, dtype=np.float64)


def _letters(desc: Sequence[Any]) -> list[str]:
    """The map as strings, one per row, from bytes (gymnasium's ``desc``) or strings."""
    rows = []
    for row in desc:
        if isinstance(row, (str, bytes)):
            rows.append(row.decode() if isinstance(row, bytes) else row)
        else:
            rows.append("".join(c.decode() if isinstance(c, bytes) else str(c) for c in row))
    if not rows or len({len(row) for row in rows}) != 1 or not rows[0]:
        raise ConfigError(
            f"expected a rectangular map (rows of equal length), received {rows!r}. Fix: pass "
            f"env.unwrapped.desc."
        )
    return rows


def _square(column: int, row: int, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((column - 0.5, row - 0.5), 1, 1, facecolor=colour, edgecolor="none")


def _arrow(axes: Any, column: int, row: int, action: int) -> None:
    step_x, step_y = DIRECTIONS[action]
    axes.annotate(
        "",
        xy=(column + 0.22 * step_x, row + 0.22 * step_y),
        xytext=(column - 0.22 * step_x, row - 0.22 * step_y),
        arrowprops={"arrowstyle": "-|>,head_width=0.4,head_length=0.6", "color": "white",
                    "linewidth": 2.5, "path_effects": _outline()},
    )  # fmt: skip


def _numbers(
    axes: Any, column: int, row: int, cell_values: np.ndarray, ink: str, size: float
) -> None:
    greedy = int(cell_values.argmax())
    for action, (step_x, step_y) in DIRECTIONS.items():
        axes.text(
            column + 0.36 * step_x, row + 0.36 * step_y, f"{cell_values[action]:.2f}",
            ha="center", va="center", color=ink, fontsize=size,
            fontweight="bold" if action == greedy else "normal",
        )  # fmt: skip


def _outline() -> list[Any]:
    from matplotlib import patheffects

    # A dark rim keeps a white arrow visible on the bright end of the colour map.
    return [patheffects.Stroke(linewidth=4.5, foreground="black"), patheffects.Normal()]
