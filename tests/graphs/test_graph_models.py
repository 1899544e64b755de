"""GCN, GAT and the MLP baseline against dense references written here, and their wiring."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ember.errors import ConfigError, UnknownNameError
from ember.graphs import GRAPH_MODELS, NodeClassifier, create_model, karate_club
from ember.graphs.pyg import GATConv, GCNConv
from ember.plots.feature_maps import penultimate_features

ATOL = 1e-5


def random_graph(nodes: int = 7, edges: int = 15, features: int = 5, seed: int = 0):
    """Features (N, F) and a directed edge_index (2, E) without self-loops or duplicates."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(nodes, features, generator=generator)
    pairs = [(s, t) for s in range(nodes) for t in range(nodes) if s != t]
    chosen = torch.randperm(len(pairs), generator=generator)[:edges]
    edge_index = torch.tensor([pairs[i] for i in chosen.tolist()]).T  # (2, E)
    return x, edge_index


def adjacency_with_self_loops(edge_index: torch.Tensor, nodes: int) -> torch.Tensor:
    """Dense A + I with A[i, j] = 1 for an edge j -> i (messages flow source -> target)."""
    adjacency = torch.eye(nodes, dtype=torch.float64)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    return adjacency


def dense_gcn(conv: GCNConv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 X W + b, in float64."""
    adjacency = adjacency_with_self_loops(edge_index, len(x))
    scale = adjacency.sum(1).rsqrt()  # D^-1/2, D the in-degree with the self-loop
    normalised = scale[:, None] * adjacency * scale[None, :]
    weight, bias = conv.lin.weight.double(), conv.bias.double()
    return normalised @ x.double() @ weight.T + bias


def dense_gat(conv: GATConv, x: torch.Tensor, edge_index: torch.Tensor):
    """Per head: alpha_ij = softmax_j(LeakyReLU(a^T [W h_i || W h_j])) over j -> i and the
    self-loop, then sum_j alpha_ij W h_j; heads concatenated, plus the bias. Float64."""
    heads, width = conv.heads, conv.out_channels
    adjacency = adjacency_with_self_loops(edge_index, len(x))
    transformed = (x.double() @ conv.lin.weight.double().T).view(len(x), heads, width)
    a_target = conv.att_dst.double()[0]  # (H, C): the half of a that multiplies W h_i
    a_source = conv.att_src.double()[0]  # (H, C): the half that multiplies W h_j
    outputs, attentions = [], []
    for head in range(heads):
        wh = transformed[:, head]  # (N, C)
        scores = (wh @ a_target[head])[:, None] + (wh @ a_source[head])[None, :]  # (N_i, N_j)
        scores = nn.functional.leaky_relu(scores, conv.negative_slope)
        scores = scores.masked_fill(adjacency == 0, float("-inf"))
        attention = scores.softmax(dim=1)  # (N_i, N_j): row i sums to 1 over i's neighbours
        attentions.append(attention)
        outputs.append(attention @ wh)
    return torch.cat(outputs, dim=1) + conv.bias.double(), torch.stack(attentions)


def test_gcn_layer_matches_the_dense_normalised_adjacency_formula():
    x, edge_index = random_graph()
    torch.manual_seed(1)
    conv = GCNConv(5, 3)
    nn.init.normal_(conv.bias)  # PyG starts the bias at zero: make it count
    expected = dense_gcn(conv, x, edge_index)
    torch.testing.assert_close(conv(x, edge_index).double(), expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("heads", [1, 2])
def test_gat_layer_attention_and_output_match_the_dense_softmax(heads):
    x, edge_index = random_graph(seed=2)
    torch.manual_seed(3)
    conv = GATConv(5, 3, heads=heads)
    nn.init.normal_(conv.bias)
    expected_output, expected_attention = dense_gat(conv, x, edge_index)
    output, (attended_edges, alpha) = conv(x, edge_index, return_attention_weights=True)
    # PyG returns one coefficient per edge (self-loops added): scatter them into (H, N_i, N_j).
    attention = torch.zeros(heads, len(x), len(x), dtype=torch.float64)
    attention[:, attended_edges[1], attended_edges[0]] = alpha.T.double()
    torch.testing.assert_close(attention, expected_attention, atol=ATOL, rtol=0)
    torch.testing.assert_close(output.double(), expected_output, atol=ATOL, rtol=0)


def test_gcn_network_is_its_layers_then_relu_then_the_linear_head():
    x, edge_index = random_graph(seed=4)
    network = create_model("gcn", 5, 3, hidden=(6, 4)).eval()  # eval: dropout off
    first, second = network.layers
    hidden = dense_gcn(second, dense_gcn(first, x, edge_index).relu().float(), edge_index).relu()
    expected = hidden @ network.head.weight.double().T + network.head.bias.double()
    torch.testing.assert_close(network(x, edge_index).double(), expected, atol=ATOL, rtol=0)


def test_gat_network_splits_each_width_over_its_heads_and_uses_elu():
    x, edge_index = random_graph(seed=5)
    network = create_model("gat", 5, 2, hidden=(8,), heads=4).eval()
    (conv,) = network.layers
    assert (conv.heads, conv.out_channels) == (4, 2)
    hidden = nn.functional.elu(dense_gat(conv, x, edge_index)[0])
    expected = hidden @ network.head.weight.double().T + network.head.bias.double()
    torch.testing.assert_close(network(x, edge_index).double(), expected, atol=ATOL, rtol=0)


def test_mlp_baseline_ignores_the_edges_and_is_a_plain_linear_stack():
    x, edge_index = random_graph(seed=6)
    network = create_model("mlp", 5, 3, hidden=(4,)).eval()
    (layer,) = network.layers
    expected = network.head(torch.relu(layer(x)))
    torch.testing.assert_close(network(x, edge_index), expected)
    torch.testing.assert_close(network(x, edge_index[:, :0]), expected)  # no edges: same
    other = create_model("gcn", 5, 3, hidden=(4,)).eval()
    assert not torch.allclose(other(x, edge_index), other(x, edge_index[:, :0]))


@pytest.mark.parametrize("name", GRAPH_MODELS.names())
def test_every_graph_model_trains_a_step_on_the_karate_club_without_nans(name):
    graph = karate_club()
    torch.manual_seed(0)
    classifier = NodeClassifier(create_model(name, graph.num_features, 2), graph)
    nodes = torch.tensor([0, 5, 33, 30])
    logits = classifier(nodes)
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()
    nn.functional.cross_entropy(logits, graph.y[nodes]).backward()
    gradients = [p.grad for p in classifier.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in gradients)
    # The rows asked for are the rows of the whole graph's output (in eval mode).
    classifier.eval()
    everything = classifier.network(graph.x, graph.edge_index)
    torch.testing.assert_close(classifier(nodes), everything[nodes])


def test_the_graph_travels_with_the_module_but_stays_out_of_its_weights():
    graph = karate_club()
    classifier = NodeClassifier(create_model("gcn", graph.num_features, 2), graph)
    assert {name for name, _ in classifier.named_buffers()} == {"x", "edge_index"}
    assert not any(key in classifier.state_dict() for key in ("x", "edge_index"))
    moved = classifier.to(torch.float64)  # as .to(device): buffers follow (ids stay int64)
    assert moved.x.dtype == torch.float64 and moved.edge_index.dtype == torch.int64


def test_feature_maps_read_the_node_embeddings_of_the_nodes_asked_for():
    graph = karate_club()
    classifier = NodeClassifier(create_model("gat", graph.num_features, 2), graph).eval()
    nodes = torch.tensor([3, 9, 20])
    features = penultimate_features(classifier, nodes)
    torch.testing.assert_close(features, classifier.embed(nodes))
    assert features.shape == (3, 16)


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("gnc", {}, UnknownNameError, r"unknown graph model 'gnc'\. Did you mean 'gcn'\?"),
        ("gat", {"hidden": (6,), "heads": 4}, ConfigError, r"multiple of heads=4.*hidden=8"),
        ("gcn", {"hidden": ()}, ConfigError, r"received hidden=\(\)\. Fix: --set hidden=16,16"),
        ("mlp", {"dropout": 1.0}, ConfigError, r"expected a rate in \[0, 1\), received dropout=1"),
        ("gat", {"dropout": -0.1}, ConfigError, r"received dropout=-0\.1"),
        ("gat", {"heads": 0}, ConfigError, r"expected a positive integer, received heads=0"),
    ],
)
def test_bad_model_settings_name_the_setting(name, options, error, match):
    with pytest.raises(error, match=match):
        create_model(name, 34, 2, **options)
