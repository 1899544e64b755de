"""``active-fashion`` on tiny fake images through the ``ember`` command: the run, its report,
an exact resume without pretraining again, and bad configs refused before any folder is written."""

from __future__ import annotations

import pytest
from fake_images import install

from ember import recipes
from ember.active import comparison
from ember.cli import main
from ember.runs import load_checkpoint, metrics_log, training

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = {
    "labels": "20,40,60",
    "seeds": "2",
    "strategies": "random,margin,bald",
    "pretrained_strategies": "random",
    "hidden": "16",
    "steps": "10",
    "score_subset": "100",
    "bald_passes": "3",
    "pretrain_epochs": "1",
}


def set_flags(**changes):
    return [
        part for key, value in {**TINY, **changes}.items() for part in ("--set", f"{key}={value}")
    ]


@pytest.fixture(autouse=True)
def tiny_datasets(monkeypatch, tmp_path):
    install(monkeypatch, tmp_path)  # 200 training images (the pool) and 100 test images


@pytest.fixture
def pretrainings(monkeypatch):
    calls = []
    pretrain = comparison.pretrain_encoder

    def spy(images, **kwargs):
        calls.append(len(images))
        return pretrain(images, **kwargs)

    monkeypatch.setattr(comparison, "pretrain_encoder", spy)
    return calls


def epochs(run):
    return [
        {k: v for k, v in record.items() if k not in ("time", "pretrain_seconds")}
        for record in metrics_log.epochs(run / "metrics.jsonl")
    ]


def test_ember_train_active_fashion_logs_every_round_and_reports_the_curves(
    tmp_path, pretrainings, capsys
):
    run = tmp_path / "run"
    assert main(["train", "active-fashion", *set_flags(), "--out", str(run), "--quiet"]) == 0
    assert pretrainings == [200, 200]  # once per seed, on every pool image
    logged = epochs(run)
    assert [record["labels"] for record in logged] == [20.0, 40.0, 60.0]
    curves = ("random", "margin", "bald", "pretrained_random")
    assert all(0 <= record[f"accuracy_{c}"] <= 1 for record in logged for c in curves)
    records = metrics_log.read(run / "metrics.jsonl")
    test = [r for r in records if r.get("kind") == "evaluation"][-1]
    for curve in curves:  # the final numbers are the last round's means
        assert test[f"accuracy_{curve}"] == pytest.approx(logged[-1][f"accuracy_{curve}"])
    report = (run / "report.html").read_text()
    assert "learning curves" in report and "accuracy_pretrained_random" in report
    assert (run / "evaluation" / "test" / "learning_curves.png").stat().st_size > 0
    assert load_checkpoint(run).epoch == 3
    assert set(load_checkpoint(run).weights) == {
        f"seed_{i}.{n}.{p}" for i in (0, 1) for n in (1,) for p in ("weight", "bias")
    }  # the pretrained encoders: one Linear(784, 16) per seed
    capsys.readouterr()
    # no episodes to play and no split to predict: both point at the report
    assert main(["play", str(run)]) == 2
    assert "acts in no environment" in capsys.readouterr().err
    assert main(["evaluate", str(run)]) == 2
    assert f"`ember report {run}`" in " ".join(capsys.readouterr().err.split())


def test_a_stopped_run_resumes_exactly_without_pretraining_again(
    tmp_path, pretrainings, monkeypatch
):
    recipe = recipes.get("active-fashion")
    config = recipe.config(
        labels=(20, 40, 60),
        seeds=1,
        strategies=("margin", "bald"),
        pretrained_strategies=("margin",),
        hidden=(16,),
        steps=10,
        score_subset=100,
        bald_passes=3,
        pretrain_epochs=1,
    )
    training.train(recipe, config, out=tmp_path / "whole", verbose=0)
    run_epoch = comparison.StrategyComparison.run_epoch

    def first_round_then_stop(agent, epoch):
        agent.stop_training = True  # as a callback would: after this epoch's checkpoint
        return run_epoch(agent, epoch)

    with monkeypatch.context() as patch:
        patch.setattr(comparison.StrategyComparison, "run_epoch", first_round_then_stop)
        stopped = training.train(recipe, config, out=tmp_path / "part", verbose=0)
    assert not stopped.finished and stopped.epochs_done == 1
    assert len(pretrainings) == 2
    resumed = training.resume(tmp_path / "part", verbose=0)
    assert resumed.finished and len(pretrainings) == 2  # the encoder came from the checkpoint
    assert epochs(tmp_path / "part") == epochs(tmp_path / "whole")
    assert resumed.test == final_test(tmp_path / "whole")


def final_test(run):
    records = [r for r in metrics_log.read(run / "metrics.jsonl") if r.get("kind") == "evaluation"]
    skip = ("kind", "split", "epoch", "checkpoint", "time")
    return {k: v for k, v in records[-1].items() if k not in skip}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"labels": "20,100,300", "score_subset": "none"},
            "the label budget (300 labels) is larger than the pool of 200 images",
        ),
        (
            {"labels": "250"},
            "the initial labelled pool (250 labels) is larger than the pool of 200",
        ),
        ({"labels": "20,40,40"}, "each round must acquire k > 0 new labels"),
        ({"strategies": "random,variance"}, "Known acquisition strategies: bald, entropy, margin"),
        (
            {"pool_size": "50", "labels": "20,40,60"},
            "the label budget (60 labels) is larger than the pool of 50",
        ),
        ({"score_subset": "10"}, "acquires up to k=20 labels but only score_subset=10"),
    ],
)
def test_bad_configs_are_refused_before_the_run_folder_is_made(tmp_path, capsys, changes, message):
    run = tmp_path / "run"
    assert main(["train", "active-fashion", *set_flags(**changes), "--out", str(run)]) == 2
    error = capsys.readouterr().err
    assert "active-fashion" in error and message in " ".join(error.split())
    assert not run.exists()
