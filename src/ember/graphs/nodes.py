"""Node classification on the engine: the samples are node ids, the network holds the graph.

The engine trains on tensors sliced into batches (:class:`ember.data.TensorBatches`), so a
node-classification split is the ids of its nodes ``(n,)`` with their labels ``(n,)``.
:class:`NodeClassifier` binds a :class:`~ember.graphs.models.GraphNetwork` to its graph (features
and edges as buffers, so they move with ``.to(device)``): ``forward(node_ids)`` runs the network
over the whole graph and returns the rows asked for. With a batch at least as large as the
training split, an epoch is one full-batch step, as in Kipf & Welling; the standard
classification evaluation (accuracy, F1, confusion matrix) works unchanged.

:func:`split_nodes` draws the semi-supervised split: a few labelled nodes per class to train
on, a few to validate on, every other node to test on.

Example:
    >>> from ember.graphs.graph import karate_club
    >>> from ember.graphs.models import create_model
    >>> graph = karate_club()
    >>> classifier = NodeClassifier(create_model("gcn", graph.num_features, 2), graph)
    >>> classifier(torch.tensor([0, 33])).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError
from ember.graphs.graph import Graph
from ember.graphs.models import GraphNetwork


class NodeClassifier(nn.Module):
    """``network`` bound to ``graph``: node ids ``(B,)`` -> logits ``(B, C)``.

    The graph's features and edges are non-persistent buffers: they follow the module to its
    device but stay out of its ``state_dict``, so checkpoints hold the weights only (the graph
    is data, rebuilt with the recipe).

    Example:
        >>> from ember.graphs.graph import karate_club
        >>> from ember.graphs.models import create_model
        >>> graph = karate_club()
        >>> classifier = NodeClassifier(create_model("mlp", graph.num_features, 2), graph)
        >>> sorted(classifier.state_dict())[:2]
        ['network.head.bias', 'network.head.weight']
    """

    def __init__(self, network: GraphNetwork, graph: Graph) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("x", graph.x, persistent=False)  # (N, F)
        self.register_buffer("edge_index", graph.edge_index, persistent=False)  # (2, E)

    def forward(self, node_ids: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, C)`` of the nodes ``node_ids`` (B,), computed over the whole graph."""
        return self.network(self.x, self.edge_index, node_ids)

    def embed(self, node_ids: torch.Tensor) -> torch.Tensor:
        """The embeddings ``(B, H)`` of the nodes ``node_ids`` (the head's input)."""
        return self.network.embed(self.x, self.edge_index)[node_ids]


@dataclass(frozen=True)
class NodeSplit:
    """The node ids ``(n,)`` of each part, sorted; ``val`` may be empty."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor


def split_nodes(
    labels: torch.Tensor, train_per_class: int, validation_per_class: int = 0, *, seed: int = 0
) -> NodeSplit:
    """``train_per_class`` nodes of each class to train on, ``validation_per_class`` to
    validate on, drawn at random with ``seed``; the rest to test on.

    Each class keeps at least one test node, so a class must have more nodes than the two
    counts together: a :class:`ConfigError` says how many it has and what to ask for instead.

    Example:
        >>> split = split_nodes(torch.tensor([0, 0, 0, 1, 1, 1]), 1, 1, seed=0)
        >>> len(split.train), len(split.val), len(split.test)
        (2, 2, 2)
        >>> split_nodes(torch.tensor([0, 0, 1, 1, 1]), 2)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected train_per_class + validation_per_class below 2, ...
    """
    train_per_class = checks.positive_int("train_per_class", train_per_class)
    validation_per_class = checks.non_negative_int("validation_per_class", validation_per_class)
    labels = torch.as_tensor(labels).long()
    classes, counts = labels.unique(return_counts=True)
    smallest = int(counts.argmin())
    wanted = train_per_class + validation_per_class
    if wanted >= int(counts[smallest]):
        size = int(counts[smallest])
        most = size - 1 - validation_per_class
        fix = (
            f"set train_per_class to at most {most}"
            if most >= 1
            else f"keep train_per_class + validation_per_class at most {size - 1}"
        )
        raise ConfigError(
            f"expected train_per_class + validation_per_class below {size}, the nodes of the "
            f"smallest class (class {int(classes[smallest])}, which must keep a test node), "
            f"received train_per_class={train_per_class}, "
            f"validation_per_class={validation_per_class}. Fix: {fix}."
        )
    generator = torch.Generator().manual_seed(seed)
    parts: dict[str, list[torch.Tensor]] = {"train": [], "val": [], "test": []}
    for label in classes:
        members = (labels == label).nonzero()[:, 0]
        members = members[torch.randperm(len(members), generator=generator)]
        parts["train"].append(members[:train_per_class])
        parts["val"].append(members[train_per_class:wanted])
        parts["test"].append(members[wanted:])
    train, val, test = (torch.cat(parts[name]).sort().values for name in ("train", "val", "test"))
    return NodeSplit(train, val, test)
