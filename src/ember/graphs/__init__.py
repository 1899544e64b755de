"""Graphs: node classification with graph convolutions (GCN) and graph attention (GAT), on
PyTorch Geometric's layers, trained by ember's engine like any classifier.

A :class:`Graph` holds node features, edges and labels, checked when made (an edge pointing at
a missing node is a :class:`~ember.errors.DataError` before any training); build one from
tensors or with :func:`from_networkx`. :func:`create_model` makes a ``gcn``, ``gat`` or ``mlp``
(the baseline that ignores the edges); :class:`NodeClassifier` binds it to its graph so that
its samples are node ids; :func:`split_nodes` draws a few labelled nodes per class.

Example:
    >>> from ember import graphs
    >>> graph = graphs.karate_club()
    >>> split = graphs.split_nodes(graph.y, train_per_class=4, validation_per_class=3)
    >>> classifier = graphs.NodeClassifier(graphs.create_model("gcn", 34, 2), graph)
    >>> classifier(split.test).shape
    torch.Size([20, 2])
"""

from ember.graphs.features import attribute_features, structural_features
from ember.graphs.graph import Graph, check_edge_index, from_networkx, karate_club
from ember.graphs.models import GRAPH_MODELS, GraphNetwork, create_model, gat, gcn, mlp
from ember.graphs.nodes import NodeClassifier, NodeSplit, split_nodes
from ember.graphs.plot import DrawPredictions, plot_node_predictions

__all__ = [
    "GRAPH_MODELS",
    "DrawPredictions",
    "Graph",
    "GraphNetwork",
    "NodeClassifier",
    "NodeSplit",
    "attribute_features",
    "check_edge_index",
    "create_model",
    "from_networkx",
    "gat",
    "gcn",
    "karate_club",
    "mlp",
    "plot_node_predictions",
    "split_nodes",
    "structural_features",
]
