"""The graph drawn with its nodes coloured by the network's prediction (networkx + matplotlib).

Training nodes are squares, validation nodes triangles, test nodes circles; a wrong prediction
has a thick red ring. :class:`DrawPredictions` draws it when training ends, from the final
weights (those the run's test evaluation scores), into the folder the run's report shows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import networkx as nx
import torch

from ember.graphs.graph import Graph
from ember.graphs.nodes import NodeClassifier, NodeSplit
from ember.plots.figure import new_figure, save_figure
from ember.train.callback import Callback, Logs

SHAPES = {"train": "s", "val": "^", "test": "o"}  # matplotlib markers per part of the split
WRONG = "#d62728"  # the ring around a wrong prediction


def plot_node_predictions(
    graph: Graph,
    predicted: torch.Tensor,
    split: NodeSplit,
    path: str | os.PathLike,
    title: str = "Predicted class of each node",
    seed: int = 0,
) -> Any:
    """Draw ``graph`` (spring layout from ``seed``), node colour = ``predicted`` class (N,).

    The title gets the test accuracy. Returns the figure.

    Example:
        >>> import pathlib, tempfile
        >>> from ember.graphs.graph import karate_club
        >>> from ember.graphs.nodes import split_nodes
        >>> graph = karate_club()
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "graph.png"
        >>> figure = plot_node_predictions(graph, graph.y, split_nodes(graph.y, 4, 3), path)
        >>> figure.axes[0].get_title()
        'Predicted class of each node (test accuracy 100.0%, 20 of 20)'
    """
    from matplotlib import colormaps

    predicted = predicted.cpu()
    drawing = nx.Graph()
    drawing.add_nodes_from(range(graph.num_nodes))
    drawing.add_edges_from(graph.edge_index.T.tolist())
    positions = nx.spring_layout(drawing, seed=seed)
    figure = new_figure(9, 7)
    axes = figure.add_subplot()
    nx.draw_networkx_edges(drawing, positions, ax=axes, alpha=0.25, width=0.8)
    colours = colormaps["tab10"].colors
    size = max(40, min(300, 12000 // graph.num_nodes))
    for part, marker in SHAPES.items():
        nodes = getattr(split, part).tolist()
        wrong = [bool(predicted[n] != graph.y[n]) for n in nodes]
        nx.draw_networkx_nodes(
            drawing,
            positions,
            nodelist=nodes,
            node_color=[colours[int(predicted[n]) % len(colours)] for n in nodes],
            node_shape=marker,
            node_size=size,
            edgecolors=[WRONG if w else "black" for w in wrong],
            linewidths=[3.0 if w else 0.5 for w in wrong],
            ax=axes,
        )
    if graph.num_nodes <= 100:  # beyond that the names hide the graph
        names = {n: str(name) for n, name in enumerate(graph.node_names)}
        nx.draw_networkx_labels(drawing, positions, names, font_size=7, ax=axes)
    test = split.test
    correct = int((predicted[test] == graph.y[test]).sum())
    accuracy = f"test accuracy {correct / max(len(test), 1):.1%}, {correct} of {len(test)}"
    axes.set_title(f"{title} ({accuracy})")
    axes.legend(handles=_legend(graph.class_names, colours), loc="best", fontsize="small")
    axes.set_axis_off()
    return save_figure(figure, path)


class DrawPredictions(Callback):
    """Draw ``classifier``'s predictions on its graph into ``path`` when training ends.

    Example (what the ``gnn-karate`` recipes hand the run):
        >>> callback = DrawPredictions(classifier, graph, split, run / "graph.png")  # doctest: +SKIP
    """

    def __init__(
        self,
        classifier: NodeClassifier,
        graph: Graph,
        split: NodeSplit,
        path: str | os.PathLike,
        title: str = "Predicted class of each node",
    ) -> None:
        self.classifier, self.graph, self.split = classifier, graph, split
        self.path, self.title = Path(path), title

    def on_fit_end(self, logs: Logs | None = None) -> None:
        """Predict every node in eval mode, draw, and put the classifier back in its mode."""
        training = self.classifier.training
        self.classifier.eval()
        try:
            with torch.inference_mode():
                node_ids = torch.arange(self.graph.num_nodes, device=self.classifier.x.device)
                predicted = self.classifier(node_ids).argmax(-1).cpu()
        finally:
            self.classifier.train(training)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        plot_node_predictions(self.graph, predicted, self.split, self.path, self.title)


def _legend(class_names: list[str], colours: Any) -> list[Any]:
    from matplotlib.lines import Line2D  # matplotlib loads on first use, as in ember.plots

    def dot(marker: str, label: str, colour: Any = "white", edge: str = "black") -> Any:
        return Line2D([], [], marker=marker, linestyle="", markersize=9, label=label,
                      markerfacecolor=colour, markeredgecolor=edge)  # fmt: skip

    handles = [
        dot("o", f"predicted {name}", colours[index % len(colours)])
        for index, name in enumerate(class_names)
    ]
    handles += [dot(marker, f"{part} node") for part, marker in SHAPES.items()]
    handles.append(dot("o", "wrong prediction", edge=WRONG))
    return handles
