"""Node classifiers over a whole graph: GCN, GAT, and the MLP that ignores the edges.

Each is a :class:`GraphNetwork`: a stack of layers over all nodes (PyTorch Geometric's
``GCNConv`` or ``GATConv``, or ``nn.Linear`` for the baseline), each followed by an activation,
with dropout before each, then one linear head per node. The three differ only in their
layers, so their scores compare the use of the graph and nothing else. The head's input is a
node's embedding: the report's feature maps draw it.

* ``gcn``: Kipf & Welling (2017), ``H' = D^-1/2 (A + I) D^-1/2 H W + b``, ReLU.
* ``gat``: Velickovic et al. (2018), each node attends over its neighbours and itself with
  ``heads`` heads whose outputs are concatenated, ELU; dropout on the attention too.
* ``mlp``: the same widths with ``nn.Linear``: what the node's own features alone give.

Example:
    >>> network = create_model("gcn", in_features=4, num_classes=2, hidden=(8,))
    >>> network(torch.eye(4), torch.tensor([[0, 1], [1, 0]])).shape
    torch.Size([4, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.graphs.pyg import GATConv, GCNConv, MessagePassing
from ember.registry import Registry

GRAPH_MODELS = Registry("graph model")


class GraphNetwork(nn.Module):
    """Layers over the whole graph, then a linear head: ``(x (N, F), edge_index (2, E))`` ->
    logits ``(N, C)``, or only the rows ``nodes`` asks for.

    Example:
        >>> network = GraphNetwork([nn.Linear(3, 4)], nn.Linear(4, 2), nn.ReLU(), dropout=0.0)
        >>> network(torch.randn(5, 3), torch.zeros(2, 0, dtype=torch.long), torch.tensor([4])).shape
        torch.Size([1, 2])
    """

    def __init__(
        self, layers: Sequence[nn.Module], head: nn.Linear, activation: nn.Module, dropout: float
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.activation = activation
        self.dropout = nn.Dropout(checks.rate("dropout", dropout))
        self.head = head  # registered last: the last nn.Linear, whose input the feature maps read

    def embed(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Every node's embedding ``(N, H)``: the input of the head."""
        for layer in self.layers:
            x = self.dropout(x)
            # Message-passing layers read the edges; the baseline's linear layers do not.
            x = layer(x, edge_index) if isinstance(layer, MessagePassing) else layer(x)
            x = self.activation(x)
        return x

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, nodes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits of every node ``(N, C)``, or of ``nodes`` (B,) only ``(B, C)``."""
        embeddings = self.embed(x, edge_index)  # (N, H): each layer needs every node
        if nodes is not None:
            embeddings = embeddings[nodes]  # (B, H)
        return self.head(self.dropout(embeddings))


@GRAPH_MODELS.register("gcn")
def gcn(
    in_features: int, num_classes: int, hidden: Sequence[int] = (16, 16), dropout: float = 0.5
) -> GraphNetwork:
    """Graph convolutions (PyG's ``GCNConv``) of widths ``hidden``, ReLU, a linear head.

    Example:
        >>> [type(layer).__name__ for layer in gcn(34, 2).layers]
        ['GCNConv', 'GCNConv']
    """
    widths = _widths(in_features, num_classes, hidden)
    layers = [GCNConv(a, b) for a, b in zip(widths, widths[1:])]
    return GraphNetwork(layers, nn.Linear(widths[-1], num_classes), nn.ReLU(), dropout)


@GRAPH_MODELS.register("gat")
def gat(
    in_features: int,
    num_classes: int,
    hidden: Sequence[int] = (16, 16),
    dropout: float = 0.5,
    heads: int = 4,
) -> GraphNetwork:
    """Graph attention (PyG's ``GATConv``): layer widths ``hidden``, each split over ``heads``
    heads whose outputs are concatenated; ELU; a linear head.

    Example:
        >>> gat(34, 2, hidden=(16,), heads=4).layers[0].out_channels  # per head
        4
    """
    widths = _widths(in_features, num_classes, hidden)
    heads = checks.positive_int("heads", heads)
    dropout = checks.rate("dropout", dropout)  # GATConv takes any number: check it first
    uneven = [width for width in widths[1:] if width % heads]
    if uneven:
        raise ConfigError(
            f"expected each hidden width a multiple of heads={heads} (each head gets width / "
            f"heads), received hidden={tuple(widths[1:])}. Fix: --set hidden="
            f"{','.join(str(max(heads, round(w / heads) * heads)) for w in widths[1:])}"
        )
    layers = [
        GATConv(a, b // heads, heads=heads, dropout=dropout) for a, b in zip(widths, widths[1:])
    ]
    return GraphNetwork(layers, nn.Linear(widths[-1], num_classes), nn.ELU(), dropout)


@GRAPH_MODELS.register("mlp")
def mlp(
    in_features: int, num_classes: int, hidden: Sequence[int] = (16, 16), dropout: float = 0.5
) -> GraphNetwork:
    """The no-graph baseline: ``nn.Linear`` layers of widths ``hidden``, ReLU, a linear head.

    Example:
        >>> network = mlp(3, 2, hidden=(4,))
        >>> edges = torch.tensor([[0, 1], [1, 0]])
        >>> torch.equal(network.eval()(torch.eye(3), edges), network(torch.eye(3), edges[:, :0]))
        True
    """
    widths = _widths(in_features, num_classes, hidden)
    layers = [nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
    return GraphNetwork(layers, nn.Linear(widths[-1], num_classes), nn.ReLU(), dropout)


def create_model(name: str, in_features: int, num_classes: int, **options: Any) -> GraphNetwork:
    """The graph model called ``name`` (``gcn``, ``gat``, ``mlp``); ``options`` go to its factory.

    Example:
        >>> create_model("gnc", 4, 2)
        Traceback (most recent call last):
        ...
        ember.errors.UnknownNameError: unknown graph model 'gnc'. Did you mean 'gcn'? Known graph models: gat, gcn, mlp.
    """
    return GRAPH_MODELS.get(name)(in_features, num_classes, **options)


def _widths(in_features: int, num_classes: int, hidden: Sequence[int]) -> tuple[int, ...]:
    checks.positive_int("in_features", in_features)
    checks.positive_int("num_classes", num_classes)
    hidden = checks.positive_ints("hidden", hidden, allow_empty=False, fix="--set hidden=16,16")
    return (int(in_features), *hidden)
