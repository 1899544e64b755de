"""``gnn-karate`` (and ``-gat``, ``-mlp``): which club did each karate club member join?

Zachary's karate club (networkx's copy; no citation graph such as Cora is packaged here) is 34
members and the 78 friendships between them; after a quarrel the club split in two, and each
member's new club ("Mr. Hi" or "Officer") is the label. The nodes have no features of their own:
each gets its one-hot id (``features=identity``, as in Kipf & Welling's karate demo), or its
one-hot degree (``features=degree``).

The split is semi-supervised and drawn with the run's seed: ``train_per_class`` labelled members
per club to train on, ``validation_per_class`` to pick the best checkpoint, every other member to
test on. The same seed gives the same split whatever the model, so ``gnn-karate`` (graph
convolutions), ``gnn-karate-gat`` (graph attention) and ``gnn-karate-mlp`` (the baseline that
ignores the friendships) compare on the same members. On one-hot ids the MLP has nothing to go
on for a member it never saw, which is the point: the graph carries the information.

A sample is a node id; the network holds the whole graph and classifies the nodes asked for
(:class:`ember.graphs.NodeClassifier`), so training, checkpoints and the classification report
are the standard ones, and one batch covering the training nodes is Kipf & Welling's full-batch
step. The report also draws the graph coloured by the final network's predictions.

    ember train gnn-karate
    ember train gnn-karate-mlp --set features=degree
    ember train gnn-karate --set train_per_class=1 --set validation_per_class=0 --seed 3
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import torch

from ember import checks
from ember.graphs import DrawPredictions, NodeClassifier, create_model, karate_club, split_nodes
from ember.recipes.config import RecipeConfig
from ember.recipes.experiment import DataSplits, Experiment
from ember.tasks import Supervised
from ember.train import Trainer

MODEL_NAMES = {"gcn": "GCN", "gat": "GAT", "mlp": "MLP (no graph)"}


@dataclass
class Config(RecipeConfig):
    model: str = "gcn"  # gcn (graph convolution), gat (graph attention) or mlp (ignores edges)
    features: str = "identity"  # each node's input: identity (one-hot id) or degree (one-hot)
    epochs: int = 200  # passes over the training nodes (one full-batch step each)
    batch_size: int = 64  # training nodes per step; at least the training split: full-batch
    hidden: tuple[int, ...] = (16, 16)  # width of each graph layer (GAT: split over its heads)
    heads: int = 4  # GAT's attention heads per layer
    dropout: float = 0.5  # dropped fraction of each layer's input (and of GAT's attention)
    learning_rate: float = 0.01  # Adam's step size (Kipf & Welling's)
    weight_decay: float = 5e-4  # L2 penalty added to the gradient (Kipf & Welling's)
    train_per_class: int = 4  # labelled members per club to train on
    validation_per_class: int = 3  # members per club whose accuracy picks the best checkpoint

    field_checks = {
        "hidden": checks.positive_ints,
        "heads": checks.positive_int,
        "dropout": checks.rate,
        "learning_rate": checks.positive_number,
        "weight_decay": checks.non_negative_number,
        "train_per_class": checks.positive_int,
        "validation_per_class": checks.non_negative_int,
    }


def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    # -- the graph and its split: node ids in, clubs out -----------------------------------------
    graph = karate_club(config.features)
    split = split_nodes(
        graph.y, config.train_per_class, config.validation_per_class, seed=config.seed
    )
    data = DataSplits(
        train=(split.train, graph.y[split.train]),
        val=(split.val, graph.y[split.val]) if len(split.val) else None,
        test=(split.test, graph.y[split.test]),
        class_names=graph.class_names,
        input_shape=(),  # a sample is one node id
    )
    # -- the network: layers over the whole graph, a linear head on the nodes asked for ----------
    options = {"heads": config.heads} if config.model == "gat" else {}
    network = create_model(
        config.model,
        graph.num_features,
        graph.num_classes,
        hidden=config.hidden,
        dropout=config.dropout,
        **options,
    )
    classifier = NodeClassifier(network, graph)
    # -- training: cross-entropy on the logits; Adam with an L2 penalty, as Kipf & Welling -------
    task = Supervised(
        classifier, "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True
    )
    # torch's Adam adds weight_decay * w to the gradient (L2), unlike AdamW's decoupled decay.
    optimizer = functools.partial(
        torch.optim.Adam, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    trainer = Trainer(task, optimizer, epochs=config.epochs, device=config.device)
    title = f"{MODEL_NAMES.get(config.model, config.model)} on the karate club, {config.features} features"

    def draw_predictions(run_dir: Path) -> list[DrawPredictions]:
        path = run_dir / "evaluation" / "test" / "predictions_on_the_graph.png"
        return [DrawPredictions(classifier, graph, split, path, title)]

    return Experiment(
        network=classifier,
        trainer=trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        run_callbacks=draw_predictions,
    )
