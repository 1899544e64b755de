"""Keras' ``plot_model``: a model's layers as boxes, the tensors between them as arrows.

A functional model is drawn as its graph; a ``Sequential`` (or any model with ``layers``) as a
chain. With Graphviz's ``dot`` on the PATH the layout is Graphviz's (as in Keras); without it,
matplotlib draws the boxes in rows by depth, so the picture never needs a system package.

Example:
    >>> import pathlib, tempfile, ember
    >>> from ember import layers
    >>> inputs = ember.Input(shape=(4,), name="features")
    >>> model = ember.Model(inputs, layers.Dense(2)(layers.Dense(8)(inputs)))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.png"
    >>> plot_model(model, to_file=path, show_shapes=True, engine="matplotlib") == path
    True
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from ember.errors import ConfigError
from ember.files import atomic_path
from ember.layers.symbolic import flatten
from ember.plots.figure import new_figure, save_figure

_BOX_WIDTH, _BOX_HEIGHT = 2.6, 0.55  # inches per box (matplotlib layout)


def plot_model(
    model: Any,
    to_file: str | Path = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 96,
    engine: str = "auto",
    **ignored: Any,
) -> Path:
    """Draw ``model`` to the PNG ``to_file`` (Keras' signature); returns the path.

    ``engine``: ``"auto"`` (Graphviz's ``dot`` when installed, else matplotlib), ``"dot"`` or
    ``"matplotlib"``. Keras' other options (``expand_nested``, ``show_trainable``...) are accepted
    and not drawn.
    """
    if rankdir not in ("TB", "LR"):
        raise ConfigError(f"rankdir must be 'TB' or 'LR', received rankdir={rankdir!r}.")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ConfigError(
            f"engine must be 'auto', 'dot' or 'matplotlib', received engine={engine!r}."
        )
    boxes, edges = model_graph(model, show_shapes, show_dtype, show_layer_names)
    path = Path(to_file)
    dot = shutil.which("dot")
    if engine == "dot" and dot is None:
        raise ConfigError(
            "engine='dot' needs Graphviz's dot program, which is not installed. Fix: install "
            "graphviz (apt install graphviz), or use engine='matplotlib'."
        )
    if dot is not None and engine != "matplotlib":
        _draw_with_dot(dot, boxes, edges, path, rankdir, dpi)
    else:
        _draw_with_matplotlib(boxes, edges, path, rankdir)
    return path


def model_graph(
    model: Any, show_shapes: bool, show_dtype: bool, show_names: bool
) -> tuple[list[str], list[tuple[int, int]]]:
    """The boxes' labels and the edges (box index to box index) of ``model``'s drawing."""
    if hasattr(model, "nodes") and hasattr(model, "_input_list"):
        return _functional_graph(model, show_shapes, show_dtype, show_names)
    stack = list(getattr(model, "layers", None) or model.children())
    if not stack:
        raise ConfigError(f"model {getattr(model, 'name', '')!r} has no layers to draw.")
    labels = [_label(layer, None, show_shapes, show_dtype, show_names) for layer in stack]
    return labels, [(i, i + 1) for i in range(len(stack) - 1)]


def _functional_graph(
    model: Any, show_shapes: bool, show_dtype: bool, show_names: bool
) -> tuple[list[str], list[tuple[int, int]]]:
    labels: list[str] = []
    made_by: dict[int, int] = {}  # tensor id -> box index
    edges: list[tuple[int, int]] = []
    for tensor in model._input_list:
        made_by[tensor.id] = len(labels)
        text = f"{tensor.name}\nInputLayer" if show_names else "InputLayer"
        labels.append(text + (f"\n{_shape(tensor.shape)}" if show_shapes else ""))
    for node in model.nodes():
        box = len(labels)
        outputs = flatten(node.outputs)
        labels.append(_label(node.layer, outputs, show_shapes, show_dtype, show_names))
        for tensor in node.input_tensors():
            if (made_by[tensor.id], box) not in edges:
                edges.append((made_by[tensor.id], box))
        for tensor in outputs:
            made_by[tensor.id] = box
    return labels, edges


def _label(layer: Any, outputs: Any, show_shapes: bool, show_dtype: bool, names: bool) -> str:
    kind = type(layer).__name__
    name = getattr(layer, "name", None)
    lines = [f"{name}\n{kind}" if names and name else kind]
    if show_shapes and outputs:
        lines.append(", ".join(_shape(t.shape) for t in outputs))
    if show_dtype and outputs:
        lines.append(", ".join(str(t.dtype).replace("torch.", "") for t in outputs))
    return "\n".join(lines)


def _shape(shape: tuple) -> str:
    return str(shape).replace("None,)", "None)")


def _draw_with_dot(
    dot: str, boxes: list[str], edges: list, path: Path, rankdir: str, dpi: int
) -> None:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"digraph model {{ rankdir={rankdir}; dpi={dpi};", "node [shape=box];"]
    lines += [f"n{i} [label={quoted(label)}];" for i, label in enumerate(boxes)]
    lines += [f"n{a} -> n{b};" for a, b in edges]
    source = "\n".join(lines) + "}"
    with atomic_path(path) as temporary:
        subprocess.run(
            [dot, "-Tpng", "-o", str(temporary)], input=source.encode(), check=True, timeout=60
        )


def _draw_with_matplotlib(boxes: list[str], edges: list, path: Path, rankdir: str) -> None:
    depth = [0] * len(boxes)
    for a, b in sorted(edges, key=lambda edge: edge[1]):  # boxes come in an order that runs
        depth[b] = max(depth[b], depth[a] + 1)
    rows: dict[int, list[int]] = {}
    for index, level in enumerate(depth):
        rows.setdefault(level, []).append(index)
    levels, widest = len(rows), max(len(row) for row in rows.values())
    position = {}
    for level, row in rows.items():
        for slot, index in enumerate(row):
            across = slot - (len(row) - 1) / 2
            position[index] = (across, -level) if rankdir == "TB" else (level, -across)
    span_x, span_y = (widest, levels) if rankdir == "TB" else (levels, widest)
    lines = max(label.count("\n") + 1 for label in boxes)
    height_per = _BOX_HEIGHT * lines / 2 + 0.5
    figure = new_figure(max(3.0, span_x * (_BOX_WIDTH + 0.4)), max(2.0, span_y * height_per), None)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.axis("off")
    for a, b in edges:
        axes.annotate(
            "", xy=position[b], xytext=position[a],
            arrowprops={"arrowstyle": "-|>", "color": "#555555", "shrinkA": 22, "shrinkB": 24},
        )  # fmt: skip
    for index, label in enumerate(boxes):
        x, y = position[index]
        axes.text(
            x, y, label, ha="center", va="center", fontsize=8,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "#eef3fb", "edgecolor": "#335"},
        )  # fmt: skip
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    axes.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    axes.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    save_figure(figure, path)
