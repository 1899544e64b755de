"""Node features for graphs whose nodes have none: one-hot ids or one-hot degrees; or the
numeric attributes the nodes do have.

``"identity"`` gives each node its own one-hot vector (Kipf & Welling's featureless
karate-club demo): a graph network tells nodes apart by where they sit in the graph, while a
network that ignores the edges has nothing to go on for a node it never saw in training.
``"degree"`` gives each node the one-hot vector of its degree (PyTorch Geometric's
``OneHotDegree``): a feature shared by nodes seen and unseen, so that a no-graph baseline can
generalise at all.

Example:
    >>> structural_features("degree", torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
    tensor([[0., 1., 0.],
            [0., 0., 1.],
            [0., 1., 0.]])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import networkx as nx
import numpy as np
import torch

from ember import checks
from ember.errors import DataError
from ember.graphs.pyg import degree

STRUCTURAL = ("identity", "degree")


def structural_features(kind: str, edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """``(N, F)`` float features from the graph alone: ``"identity"`` or ``"degree"``.

    A node's degree is its number of incoming edges (an undirected edge counts once per end).

    Example:
        >>> structural_features("identity", torch.zeros(2, 0, dtype=torch.long), 2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    checks.one_of(
        "features", kind, STRUCTURAL, fix="use 'identity', 'degree' or a list of node attributes"
    )
    if kind == "identity":
        return torch.eye(num_nodes)
    degrees = degree(edge_index[1], num_nodes, dtype=torch.long)  # (N,)
    return torch.nn.functional.one_hot(degrees, int(degrees.max()) + 1).float()


def attribute_features(
    graph: nx.Graph, nodes: Sequence[Hashable], names: Sequence[str]
) -> torch.Tensor:
    """``(N, F)`` features from numeric node attributes (numbers or equal-length vectors).

    Example:
        >>> g = nx.Graph()
        >>> g.add_node("a", age=30, size=[1.0, 2.0])
        >>> g.add_node("b", age=40, size=[3.0, 4.0])
        >>> attribute_features(g, ["a", "b"], ["age", "size"]).tolist()
        [[30.0, 1.0, 2.0], [40.0, 3.0, 4.0]]
    """
    names = list(names)
    if not names or not all(isinstance(name, str) for name in names):
        raise DataError(
            f"expected features 'identity', 'degree' or a non-empty list of node attribute "
            f"names, received features={names!r}"
        )
    rows = []
    for node in nodes:
        attributes = graph.nodes[node]
        absent = [name for name in names if name not in attributes]
        if absent:
            raise DataError(
                f"node {node!r} has no {absent[0]!r} attribute. Fix: set it on every node, or "
                f"leave it out of features."
            )
        try:
            row = np.concatenate(
                [np.ravel(np.asarray(attributes[n], dtype=np.float32)) for n in names]
            )
        except (TypeError, ValueError) as error:
            raise DataError(
                f"node {node!r}'s attributes {names} are not all numbers or vectors of numbers "
                f"({error}). Fix: encode them as numbers first."
            ) from error
        rows.append(row)
    if len({len(row) for row in rows}) > 1:
        raise DataError(
            f"the attributes {names} give nodes different numbers of features "
            f"({len(rows[0])} for node {nodes[0]!r}). Fix: give every node vectors of one length."
        )
    return torch.from_numpy(np.stack(rows))
