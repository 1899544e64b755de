"""Graphs from networkx and from tensors, node features, the node split, and every bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from ember.errors import ConfigError, DataError
from ember.graphs import Graph, from_networkx, karate_club, split_nodes, structural_features


def edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.T.tolist()))


def test_karate_club_is_networkx_graph_with_each_friendship_both_ways():
    reference = nx.karate_club_graph()
    graph = karate_club()
    assert (graph.num_nodes, graph.num_edges) == (34, 2 * reference.number_of_edges())
    both_ways = {(u, v) for u, v in reference.edges()} | {(v, u) for u, v in reference.edges()}
    assert edge_set(graph.edge_index) == both_ways
    clubs = [reference.nodes[node]["club"] for node in reference.nodes]
    assert [graph.class_names[label] for label in graph.y.tolist()] == clubs
    assert graph.class_names == ["Mr. Hi", "Officer"] and graph.y.bincount().tolist() == [17, 17]
    torch.testing.assert_close(graph.x, torch.eye(34))


def test_from_networkx_numbers_named_nodes_in_order_and_keeps_a_directed_graph_one_way():
    g = nx.DiGraph()
    g.add_nodes_from([("ann", {"team": "red"}), ("bob", {"team": "blue"}), ("cy", {"team": "red"})])
    g.add_edges_from([("ann", "bob"), ("cy", "bob")])
    graph = from_networkx(g, label="team")
    assert graph.node_names == ["ann", "bob", "cy"]
    assert graph.class_names == ["blue", "red"] and graph.y.tolist() == [1, 0, 1]
    assert edge_set(graph.edge_index) == {(0, 1), (2, 1)}


def test_degree_features_are_the_one_hot_networkx_degree():
    reference = nx.karate_club_graph()
    x = karate_club(features="degree").x
    degrees = [reference.degree(node) for node in reference.nodes]
    assert x.shape == (34, max(degrees) + 1)
    assert x.argmax(1).tolist() == degrees and x.sum(1).tolist() == [1.0] * 34


def test_attribute_features_concatenate_numbers_and_vectors_in_the_order_named():
    g = nx.path_graph(3)
    for node in g.nodes:
        g.nodes[node].update(kind=node % 2, age=10.0 * node, position=[node, -node])
    graph = from_networkx(g, label="kind", features=["position", "age"])
    expected = torch.tensor([[0.0, 0.0, 0.0], [1.0, -1.0, 10.0], [2.0, -2.0, 20.0]])
    torch.testing.assert_close(graph.x, expected)


def test_a_graph_from_tensors_converts_array_likes():
    graph = Graph(x=np.ones((3, 2)), edge_index=np.array([[0, 2], [1, 1]]), y=[1, 0, 1])
    assert graph.x.dtype == torch.float32 and graph.edge_index.dtype == torch.int64
    assert (graph.num_features, graph.num_classes, graph.node_names) == (2, 2, [0, 1, 2])


@pytest.mark.parametrize(
    ("edges", "match"),
    [
        ([[0, 1, 2], [1, 3, 0]], r"edge 1 \(1 -> 3\) points at node 3, but the graph has 3 nodes"),
        ([[0, -1], [1, 0]], r"edge 1 \(-1 -> 0\) points at node -1, but the graph has 3 nodes"),
        ([[5, 0, 7], [0, 9, 1]], r"edge 0 \(5 -> 0\) points at node 5, .*; 3 of 3 edges do"),
    ],
    ids=["too_large", "negative", "several"],
)
def test_an_edge_pointing_at_a_missing_node_names_the_first_bad_edge_and_n(edges, match):
    with pytest.raises(DataError, match=match):
        Graph(x=torch.eye(3), edge_index=edges, y=[0, 1, 0])


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        (
            {"edge_index": [[0, 1], [1, 2], [2, 0]]},
            r"shape \(2, E\).*\(3, 2\)\. Fix: pass edge_index\.T",
        ),
        ({"edge_index": [[0.0, 1.0], [1.0, 0.0]]}, r"integer node ids .* dtype torch\.float64"),
        ({"x": torch.ones(3)}, r"x of shape \(N, F\) .* received shape \(3,\)"),
        ({"x": [[1.0], [float("nan")], [0.0]]}, r"node 1's features hold NaN"),
        ({"y": [0, 1]}, r"y of shape \(3,\), received shape \(2,\)"),
        ({"y": [0.0, 1.0, 0.0]}, r"integer class labels y, received dtype torch\.float64"),
        ({"y": [0, -1, 0]}, r"node 1 has label -1"),
        ({"y": [0, 1, 2], "class_names": ["a", "b"]}, r"node 2 has label 2, .*\[0, 2\)"),
        ({"node_names": ["a"]}, r"one node name per node \(3\), received 1"),
    ],
)
def test_bad_graph_parts_fail_when_the_graph_is_made(fields, match):
    parts = {"x": torch.eye(3), "edge_index": [[0, 1], [1, 2]], "y": [0, 1, 0], **fields}
    with pytest.raises(DataError, match=match):
        Graph(**parts)


def test_a_label_attribute_missing_on_some_nodes_names_the_first_and_what_nodes_have():
    g = nx.karate_club_graph()
    del g.nodes[5]["club"], g.nodes[9]["club"]
    with pytest.raises(
        DataError, match=r"2 of 34 nodes have no 'club' attribute, the first node 5"
    ):
        from_networkx(g, label="club")
    with pytest.raises(DataError, match=r"the nodes have: 'club'"):
        from_networkx(g, label="team")


@pytest.mark.parametrize(
    ("features", "error", "match"),
    [
        ("one-hot", ConfigError, r"expected features in \('identity', 'degree'\)"),
        (["age"], DataError, r"node 0 has no 'age' attribute"),
        ([], DataError, r"non-empty list of node attribute names, received features=\[\]"),
    ],
)
def test_bad_features_fail_naming_what_is_known(features, error, match):
    with pytest.raises(error, match=match):
        from_networkx(nx.karate_club_graph(), label="club", features=features)


def test_split_takes_the_asked_number_per_class_and_leaves_the_rest_to_test():
    labels = karate_club().y
    split = split_nodes(labels, train_per_class=4, validation_per_class=3, seed=7)
    for part, per_class in ((split.train, 4), (split.val, 3), (split.test, 10)):
        assert labels[part].bincount().tolist() == [per_class, per_class]
    everything = torch.cat([split.train, split.val, split.test]).sort().values
    assert everything.tolist() == list(range(34))  # disjoint, and covering every node
    again = split_nodes(labels, 4, 3, seed=7)
    assert torch.equal(again.train, split.train) and torch.equal(again.test, split.test)
    assert not torch.equal(split_nodes(labels, 4, 3, seed=8).train, split.train)


@pytest.mark.parametrize(
    ("train", "validation", "match"),
    [
        (
            15,
            3,
            r"below 17, .*received train_per_class=15, validation_per_class=3\. "
            r"Fix: set train_per_class to at most 13\.",
        ),
        (1, 16, r"Fix: keep train_per_class \+ validation_per_class at most 16\."),
    ],
)
def test_more_labelled_nodes_per_class_than_a_class_has_is_a_config_error(train, validation, match):
    with pytest.raises(ConfigError, match=match):
        split_nodes(karate_club().y, train, validation)


def test_structural_features_of_a_graph_without_edges():
    empty = torch.zeros(2, 0, dtype=torch.long)
    torch.testing.assert_close(structural_features("degree", empty, 3), torch.ones(3, 1))
