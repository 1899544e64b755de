"""``gnn-karate`` (GCN, GAT, MLP): the split, the full-batch step, a CLI run, bad configs."""

from __future__ import annotations

import copy

import pytest
import torch
from partial_runs import train_first_epoch
from safetensors.torch import load_file

from ember import recipes
from ember.cli import main
from ember.errors import ConfigError, UnknownNameError
from ember.graphs import karate_club, split_nodes
from ember.runs import load_checkpoint, metrics_log, training
from ember.seeding import set_seed

PNG = b"\x89PNG\r\n\x1a\n"


def build(name: str, **fields):
    recipe = recipes.get(name)
    config = recipe.config(device="cpu", **fields)
    set_seed(config.seed)
    return recipe.build(config), config


def test_the_split_is_the_seeds_and_the_same_for_every_model():
    gcn, _ = build("gnn-karate", seed=3)
    mlp, _ = build("gnn-karate-mlp", seed=3, features="degree")
    reference = split_nodes(karate_club().y, 4, 3, seed=3)
    for part in ("train", "val", "test"):
        ids, labels = gcn.data.split(part)
        assert torch.equal(ids, getattr(reference, part))
        assert torch.equal(labels, karate_club().y[ids])
        assert torch.equal(mlp.data.split(part)[0], ids)
    assert [len(gcn.data.split(p)[0]) for p in ("train", "val", "test")] == [8, 6, 20]
    other, _ = build("gnn-karate", seed=4)
    assert not torch.equal(other.data.train[0], gcn.data.train[0])


def test_an_epoch_is_one_full_batch_step_as_a_hand_written_kipf_loop():
    experiment, config = build("gnn-karate", dropout=0.0)  # no dropout: the same numbers
    classifier = experiment.network
    reference = copy.deepcopy(classifier)
    history = experiment.trainer.fit(experiment.batches("train", shuffle=True), epochs=3, verbose=0)
    assert experiment.trainer.state_dict()["global_step"] == 3  # one step per epoch
    assert len(history.history["loss"]) == 3
    # Kipf & Welling's loop: cross-entropy over every training node, Adam with an L2 penalty.
    nodes, labels = experiment.data.train
    optimizer = torch.optim.Adam(
        reference.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(nodes), labels).backward()
        optimizer.step()
    for (name, trained), expected in zip(
        classifier.state_dict().items(), reference.state_dict().values()
    ):
        torch.testing.assert_close(trained, expected, atol=1e-6, rtol=1e-5, msg=name)


def test_the_graph_networks_beat_the_mlp_on_members_they_never_saw():
    scores = {}
    for name in ("gnn-karate", "gnn-karate-mlp"):
        experiment, config = build(name, epochs=60)
        experiment.trainer.fit(experiment.batches("train", shuffle=True), epochs=60, verbose=0)
        x, y = experiment.data.test
        scores[name] = float((experiment.probabilities(x).argmax(-1) == y).float().mean())
    # One-hot ids: the MLP has seen no column of an unseen member, and guesses one club for
    # all of them (10 of the 20 test members); the GCN reads the friendships (~19 of 20).
    assert scores["gnn-karate-mlp"] == 0.5
    assert scores["gnn-karate"] >= 0.9


def test_ember_train_runs_it_and_the_report_draws_the_graph(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "gnn-karate", "--epochs", "5", "--out", str(run), "--quiet"]) == 0
    drawing = run / "evaluation" / "test" / "predictions_on_the_graph.png"
    assert drawing.read_bytes()[:8] == PNG
    report = (run / "report.html").read_text()
    assert 'alt="predictions on the graph"' in report and 'alt="feature-map-pca"' in report
    stored = load_file(run / "evaluation" / "test.safetensors")
    test = split_nodes(karate_club().y, 4, 3, seed=0).test
    assert torch.equal(stored["labels"], karate_club().y[test])
    logged = [r for r in metrics_log.read(run / "metrics.jsonl") if r.get("kind") == "evaluation"]
    accuracy = float((stored["probabilities"].argmax(-1) == stored["labels"]).float().mean())
    assert logged[-1]["accuracy"] == pytest.approx(accuracy)
    # The rebuilt run (graph from the recipe, weights from the checkpoint) scores the same.
    again = training.evaluate(run, "test")
    assert again["accuracy"] == pytest.approx(accuracy)


def test_a_resumed_run_ends_bitwise_where_the_uninterrupted_one_does(tmp_path, monkeypatch):
    recipe = recipes.get("gnn-karate-gat")  # dropout on features and attention: RNG matters
    config = recipe.config(epochs=3, device="cpu", feature_maps=())
    training.train(recipe, config, out=tmp_path / "whole", verbose=0)
    train_first_epoch(recipe, config, tmp_path / "part", monkeypatch)
    assert load_checkpoint(tmp_path / "part").epoch == 1
    training.resume(tmp_path / "part", verbose=0)
    whole, part = load_checkpoint(tmp_path / "whole"), load_checkpoint(tmp_path / "part")
    assert part.epoch == whole.epoch == 3
    assert whole.weights.keys() == part.weights.keys()
    for name in whole.weights:
        assert torch.equal(whole.weights[name], part.weights[name]), name


def test_without_validation_nodes_the_run_has_no_validation_split():
    experiment, _ = build("gnn-karate-gat", validation_per_class=0)
    assert experiment.data.val is None and experiment.monitor == "accuracy"
    assert len(experiment.data.test[0]) == 26


@pytest.mark.parametrize(
    ("name", "fields", "error", "match"),
    [
        (
            "gnn-karate",
            {"train_per_class": 15},
            ConfigError,
            r"^gnn-karate: expected train_per_class \+ validation_per_class below 17, .* "
            r"received train_per_class=15, validation_per_class=3\. "
            r"Fix: set train_per_class to at most 13\.$",
        ),
        ("gnn-karate", {"features": "one-hot"}, ConfigError, r"received features='one-hot'"),
        ("gnn-karate", {"model": "gnc"}, UnknownNameError, r"Did you mean 'gcn'\?"),
        ("gnn-karate-gat", {"hidden": (6,)}, ConfigError, r"multiple of heads=4"),
        (
            "gnn-karate-mlp",
            {"weight_decay": -1.0},
            ConfigError,
            r"received weight_decay=-1\.0\. Fix: --set weight_decay=0\.0005",
        ),
    ],
    ids=["too_many_per_class", "features", "model", "gat_width", "weight_decay"],
)
def test_bad_configs_fail_naming_the_field_before_any_file_is_written(
    tmp_path, name, fields, error, match
):
    recipe = recipes.get(name)
    with pytest.raises(error, match=match):
        training.train(recipe, recipe.config(device="cpu", **fields), out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
