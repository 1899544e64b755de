"""A graph for node classification: node features, edges and labels, checked when made.

:class:`Graph` holds what a graph network reads, in PyTorch Geometric's layout: node features
``x (N, F)``, edges ``edge_index (2, E)`` (row 0 the source nodes, row 1 the targets; an
undirected graph lists each edge both ways) and a class per node ``y (N,)``. Everything is
checked when the graph is made, so a bad graph fails before any training. Build one from
tensors (your own edge list, features and labels), or from a networkx graph with
:func:`from_networkx`; :func:`karate_club` is Zachary's karate club, the real graph the
``gnn-karate`` recipes train on (networkx ships it; no citation graph is packaged here).

Example:
    >>> graph = Graph(x=torch.eye(3), edge_index=[[0, 1, 1, 2], [1, 0, 2, 1]], y=[0, 0, 1])
    >>> graph.num_nodes, graph.num_edges, graph.class_names
    (3, 4, ['0', '1'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import torch

from ember.errors import DataError
from ember.graphs.features import attribute_features, structural_features
from ember.graphs.pyg import to_undirected


@dataclass
class Graph:
    """Node features ``x (N, F)``, edges ``edge_index (2, E)`` and labels ``y (N,)``, checked.

    Array-likes are accepted and converted: ``x`` to float32, ``edge_index`` and ``y`` to int64.

    Example:
        >>> Graph(x=torch.eye(2), edge_index=[[0], [2]], y=[0, 1])
        Traceback (most recent call last):
        ...
        ember.errors.DataError: edge 0 (0 -> 2) points at node 2, but the graph has 2 nodes ...
    """

    x: Any  # (N, F) node features
    edge_index: Any  # (2, E) edge e goes from node edge_index[0, e] to node edge_index[1, e]
    y: Any  # (N,) the class of each node, in [0, number of classes)
    class_names: list[str] = field(default_factory=list)  # class i's name; [] names them 0, 1, ...
    node_names: list[Any] = field(default_factory=list)  # node i's name (networkx's); [] = 0..N-1

    def __post_init__(self) -> None:
        self.x = _check_features(self.x)
        self.edge_index = check_edge_index(self.edge_index, len(self.x))
        self.y = _check_labels(self.y, len(self.x), self.class_names)
        if not self.class_names:
            self.class_names = [str(label) for label in range(int(self.y.max()) + 1)]
        if not self.node_names:
            self.node_names = list(range(len(self.x)))
        if len(self.node_names) != len(self.x):
            raise DataError(
                f"expected one node name per node ({len(self.x)}), received "
                f"{len(self.node_names)}. Fix: pass node_names of length {len(self.x)}, or none."
            )

    @property
    def num_nodes(self) -> int:
        """N, the number of nodes."""
        return len(self.x)

    @property
    def num_edges(self) -> int:
        """E, the number of (directed) edges: an undirected edge counts twice."""
        return self.edge_index.shape[1]

    @property
    def num_features(self) -> int:
        """F, the number of features per node."""
        return self.x.shape[1]

    @property
    def num_classes(self) -> int:
        """C, the number of classes."""
        return len(self.class_names)


def check_edge_index(edge_index: Any, num_nodes: int) -> torch.Tensor:
    """``edge_index`` as an int64 ``(2, E)`` tensor whose ids all lie in ``[0, num_nodes)``.

    The :class:`DataError` for an edge pointing at a missing node names the first such edge.

    Example:
        >>> check_edge_index([[0, 1], [1, 0]], 2).dtype
        torch.int64
    """
    edge_index = _as_tensor(edge_index)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        hint = (
            " Fix: pass edge_index.T." if edge_index.ndim == 2 and edge_index.shape[1] == 2 else ""
        )
        raise DataError(
            f"expected edge_index of shape (2, E) (sources, then targets), received shape "
            f"{tuple(edge_index.shape)}.{hint}"
        )
    if edge_index.numel() and (edge_index.is_floating_point() or edge_index.dtype == torch.bool):
        raise DataError(
            f"expected integer node ids in edge_index, received dtype {edge_index.dtype}. "
            f"Fix: pass edge_index.long() if the values are whole numbers."
        )
    edge_index = edge_index.long()
    bad = ((edge_index < 0) | (edge_index >= num_nodes)).any(0).nonzero()
    if len(bad):
        edge = int(bad[0, 0])
        source, target = edge_index[:, edge].tolist()
        node = source if not 0 <= source < num_nodes else target
        raise DataError(
            f"edge {edge} ({source} -> {target}) points at node {node}, but the graph has "
            f"{num_nodes} nodes (ids 0 to {num_nodes - 1}); {len(bad)} of "
            f"{edge_index.shape[1]} edges do. Fix: number the nodes 0 to N-1 in edge_index, "
            f"or give x one row per node."
        )
    return edge_index


def from_networkx(graph: nx.Graph, label: str, features: str | Sequence[str] = "identity") -> Graph:
    """A :class:`Graph` of a networkx graph whose every node has the attribute ``label``.

    Nodes are numbered in ``graph.nodes`` order; classes are the label values, sorted. An
    undirected graph's edges are listed both ways. ``features``: ``"identity"`` (one-hot node
    ids), ``"degree"`` (one-hot degree), or a list of numeric node attributes, concatenated.
    Edge attributes (weights) are not used.

    Example:
        >>> g = nx.path_graph(3)
        >>> nx.set_node_attributes(g, {0: "a", 1: "a", 2: "b"}, "kind")
        >>> graph = from_networkx(g, label="kind")
        >>> graph.y.tolist(), graph.class_names, graph.edge_index.tolist()
        ([0, 0, 1], ['a', 'b'], [[0, 1, 1, 2], [1, 0, 2, 1]])
    """
    nodes = list(graph.nodes)
    if not nodes:
        raise DataError("the networkx graph has no nodes. Fix: pass a graph with labelled nodes.")
    missing = [node for node in nodes if label not in graph.nodes[node]]
    if missing:
        present = sorted({key for node in nodes for key in graph.nodes[node]})
        raise DataError(
            f"{len(missing)} of {len(nodes)} nodes have no {label!r} attribute, the first node "
            f"{missing[0]!r}. Fix: set graph.nodes[node][{label!r}] on every node, or label by "
            f"another attribute (the nodes have: {', '.join(map(repr, present)) or 'none'})."
        )
    values = [graph.nodes[node][label] for node in nodes]
    classes = sorted(set(values), key=str)
    class_index = {value: index for index, value in enumerate(classes)}
    index = {node: position for position, node in enumerate(nodes)}
    pairs = torch.tensor([(index[u], index[v]) for u, v in graph.edges()], dtype=torch.long)
    edge_index = pairs.reshape(-1, 2).T  # (2, E)
    if not graph.is_directed():  # message passing reads edge_index one way: list both
        edge_index = to_undirected(edge_index, num_nodes=len(nodes))
    if isinstance(features, str):
        x = structural_features(features, edge_index, len(nodes))
    else:
        x = attribute_features(graph, nodes, features)
    return Graph(
        x=x,
        edge_index=edge_index,
        y=[class_index[value] for value in values],
        class_names=[str(value) for value in classes],
        node_names=nodes,
    )


def karate_club(features: str = "identity") -> Graph:
    """Zachary's karate club (networkx's copy): 34 members, 78 friendships, and the club each
    member joined after the split ("Mr. Hi" or "Officer").

    Example:
        >>> graph = karate_club()
        >>> graph.num_nodes, graph.num_edges, graph.class_names, graph.x.shape
        (34, 156, ['Mr. Hi', 'Officer'], torch.Size([34, 34]))
    """
    return from_networkx(nx.karate_club_graph(), label="club", features=features)


def _as_tensor(value: Any) -> torch.Tensor:
    # A tensor stays where it is; lists and numpy arrays go through numpy (nested lists fast).
    return value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))


def _check_features(x: Any) -> torch.Tensor:
    x = _as_tensor(x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise DataError(
            f"expected node features x of shape (N, F) with N, F >= 1, received shape "
            f"{tuple(x.shape)}. Fix: one row per node (torch.eye(N) if the nodes have none)."
        )
    x = x.float()
    bad = (~torch.isfinite(x)).any(1).nonzero()
    if len(bad):
        raise DataError(
            f"node {int(bad[0, 0])}'s features hold NaN or infinite values ({len(bad)} nodes "
            f"do). Fix: fill or drop the missing values before making the graph."
        )
    return x


def _check_labels(y: Any, num_nodes: int, class_names: list[str]) -> torch.Tensor:
    y = _as_tensor(y)
    if y.shape != (num_nodes,):
        raise DataError(
            f"expected one label per node, y of shape ({num_nodes},), received shape "
            f"{tuple(y.shape)}"
        )
    if y.is_floating_point() or y.dtype == torch.bool:
        raise DataError(f"expected integer class labels y, received dtype {y.dtype}")
    y = y.long()
    classes = len(class_names) or None
    bad = (y < 0) if classes is None else (y < 0) | (y >= classes)
    if bad.any():
        node = int(bad.nonzero()[0, 0])
        within = f"[0, {classes}) for the {classes} class_names" if classes else "[0, C)"
        raise DataError(
            f"node {node} has label {int(y[node])}, but labels must lie in {within}. "
            f"Fix: number the classes 0 to C-1 (a node without a class cannot be a graph node "
            f"here: give it one, or drop it)."
        )
    return y
