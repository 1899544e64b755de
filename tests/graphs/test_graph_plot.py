"""The graph coloured by prediction: the right colours, rings on the mistakes, the accuracy."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

from ember.graphs import (
    DrawPredictions,
    NodeClassifier,
    create_model,
    karate_club,
    plot_node_predictions,
    split_nodes,
)
from ember.graphs.plot import WRONG

PNG = b"\x89PNG\r\n\x1a\n"


def node_collections(figure):
    """The three node scatters (train, val, test), in drawing order."""
    return [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]


def test_mistakes_get_a_red_ring_and_the_title_counts_test_accuracy(tmp_path):
    graph = karate_club()
    split = split_nodes(graph.y, 4, 3, seed=0)
    predicted = graph.y.clone()
    wrong = split.test[[0, 3, 5]].tolist() + split.train[:1].tolist()
    predicted[wrong] = 1 - predicted[wrong]
    figure = plot_node_predictions(graph, predicted, split, tmp_path / "graph.png", "GCN")
    assert (tmp_path / "graph.png").read_bytes()[:8] == PNG
    assert figure.axes[0].get_title() == "GCN (test accuracy 85.0%, 17 of 20)"
    train, val, test = node_collections(figure)
    assert [len(c.get_offsets()) for c in (train, val, test)] == [8, 6, 20]
    red = np.array(to_rgba(WRONG))
    rings = [int(np.isclose(c.get_edgecolors(), red).all(1).sum()) for c in (train, val, test)]
    assert rings == [1, 0, 3]
    # Colour = predicted class: tab10's first colour for class 0, second for class 1.
    colours = {0: to_rgba("tab:blue"), 1: to_rgba("tab:orange")}
    expected = np.array([colours[int(predicted[n])] for n in split.test.tolist()])
    np.testing.assert_allclose(test.get_facecolors(), expected)


def test_the_callback_draws_the_final_predictions_and_restores_training_mode(tmp_path):
    graph = karate_club()
    split = split_nodes(graph.y, 4, 0, seed=1)
    torch.manual_seed(0)
    classifier = NodeClassifier(create_model("gcn", 34, 2), graph).train()
    callback = DrawPredictions(classifier, graph, split, tmp_path / "sub" / "graph.png", "GCN")
    callback.on_fit_end()
    assert classifier.training
    with torch.no_grad():
        predicted = classifier.eval()(torch.arange(34)).argmax(-1)
    correct = int((predicted[split.test] == graph.y[split.test]).sum())
    assert (tmp_path / "sub" / "graph.png").read_bytes()[:8] == PNG
    figure = plot_node_predictions(graph, predicted, split, tmp_path / "again.png", "GCN")
    assert f"{correct} of 26" in figure.axes[0].get_title()
