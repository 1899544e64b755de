"""Every strategy and seed as one agent: its epochs, final numbers, figure, state and config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ember.active import ActiveLearningConfig, StrategyComparison, check_active_config
from ember.active import comparison as comparison_module
from ember.active.curves import labels_to_reach
from ember.errors import ConfigError, UnknownNameError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = {
    "labels": (10, 20, 30),
    "seeds": 2,
    "hidden": (12,),
    "steps": 4,
    "batch_size": 8,
    "score_subset": 40,
    "bald_passes": 3,
    "pretrain_epochs": 1,
}


def data(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 3
    images = 0.2 * torch.rand(count, 4, 4, 1, generator=generator)
    images[torch.arange(count), labels, :, 0] += 0.8
    return images, labels


def agent(**changes) -> StrategyComparison:
    config = ActiveLearningConfig(**{**TINY, **changes})
    return StrategyComparison(config, data(90, 0), data(30, 1))


def test_an_epoch_is_one_round_of_every_curve_and_seed_logged_as_means():
    comparison = agent(strategies=("random", "margin"), pretrained_strategies=("random",))
    assert comparison.config.epochs == 3 and comparison.steps_per_epoch == 6
    logs = comparison.learn(2, verbose=0)
    assert [entry["labels"] for entry in logs] == [10.0, 20.0]
    for curve in ("random", "margin", "pretrained_random"):
        learners = comparison.learners[curve]
        for epoch in (0, 1):
            expected = np.mean([learner.accuracies[epoch] for learner in learners])
            assert logs[epoch][f"accuracy_{curve}"] == pytest.approx(expected)
    assert comparison.global_step == 12 and comparison.epoch == 2
    assert logs[0]["pretrain_seconds"] > 0 and "pretrain_seconds" not in logs[1]
    # the same seed shares its initial pool (and weights) across the curves: paired comparisons
    assert logs[0]["accuracy_random"] == logs[0]["accuracy_margin"]


def test_pretrained_curves_start_every_round_from_their_seeds_encoder(monkeypatch):
    seen = []
    train = comparison_module.ActiveLearner.step

    def spy(learner):
        seen.append((learner.seed, learner.network()))
        return train(learner)

    monkeypatch.setattr(comparison_module.ActiveLearner, "step", spy)
    comparison = agent(strategies=("random",), pretrained_strategies=("margin",))
    comparison.learn(1, verbose=0)
    fresh = [net for _, net in seen[:2]]  # the random curve: new weights
    pretrained = [net for _, net in seen[2:]]
    for net, key in zip(pretrained, ("seed_0", "seed_1")):
        encoder = comparison.model[key].state_dict()
        for name, weight in net.encoder.state_dict().items():
            assert torch.equal(weight, encoder[name])
    assert not torch.equal(fresh[0].encoder[1].weight, comparison.model["seed_0"][1].weight)
    # each seed's encoder is its own pretraining (seed + index)
    assert not torch.equal(
        comparison.model["seed_0"][1].weight, comparison.model["seed_1"][1].weight
    )


def test_the_final_numbers_are_the_curves_means_and_the_labels_to_match_random():
    comparison = agent(strategies=("random", "margin", "entropy"), pretrained_strategies=())
    curves = {
        "random": [[0.50, 0.60, 0.70], [0.52, 0.62, 0.72]],
        "margin": [[0.50, 0.70, 0.74], [0.52, 0.71, 0.76]],  # mean 0.705 at 20 labels
        "entropy": [[0.50, 0.55, 0.69], [0.52, 0.57, 0.70]],  # never reaches 0.71
    }
    for curve, rows in curves.items():
        for learner, row in zip(comparison.learners[curve], rows):
            learner.accuracies = list(row)
    metrics = comparison.test()
    for curve, rows in curves.items():
        last = np.array(rows)[:, -1]
        assert metrics[f"accuracy_{curve}"] == pytest.approx(last.mean())
        assert metrics[f"accuracy_{curve}_std"] == pytest.approx(last.std())
    # random ends at 0.71; margin's mean is 0.705 at 20 labels, 0.75 at 30
    assert metrics["labels_to_match_random_margin"] == 30.0
    assert "labels_to_match_random_entropy" not in metrics
    assert labels_to_reach([0.5, 0.705, 0.75], [10, 20, 30], 0.70) == 20


def test_the_figure_and_the_state_of_a_comparison(tmp_path):
    comparison = agent(strategies=("random", "bald"), pretrained_strategies=("random",))
    comparison.learn(2, verbose=0)
    paths = comparison.write_figures(tmp_path / "figures", [])
    assert paths == [tmp_path / "figures" / "learning_curves.png"] and paths[0].stat().st_size > 0
    curves = comparison.curves()
    assert curves["bald"].shape == (2, 3) and np.isnan(curves["bald"][:, 2]).all()

    state = comparison.state_dict()
    again = agent(strategies=("random", "bald"), pretrained_strategies=("random",))
    again.load_state_dict(state)
    again.model.load_state_dict(comparison.model.state_dict())  # a checkpoint's weights
    assert again.epoch == 2 and again.pretraining == comparison.pretraining
    again.learn(3, verbose=0)  # no second pretraining: it is in the state
    comparison.learn(3, verbose=0)
    for curve in comparison.learners:
        np.testing.assert_array_equal(again.curves()[curve], comparison.curves()[curve])
    with pytest.raises(ConfigError, match="acts in no environment: it has no episodes"):
        comparison.play(3, seed=0)


def test_bad_configs_name_the_setting_and_the_fix():
    with pytest.raises(
        ConfigError, match=r"label budget \(300 labels\) is larger than the pool of 90"
    ):
        agent(labels=(10, 300))
    with pytest.raises(UnknownNameError, match="unknown acquisition strategy 'coreset'"):
        check_active_config(ActiveLearningConfig(pretrained_strategies=("coreset",)))
    with pytest.raises(ConfigError, match="expected each strategy once"):
        check_active_config(ActiveLearningConfig(strategies=("margin", "margin")))
    with pytest.raises(ConfigError, match="expected at least one strategy"):
        check_active_config(ActiveLearningConfig(strategies=()))
    with pytest.raises(ConfigError, match="expected an integer >= 2, received bald_passes=1"):
        check_active_config(ActiveLearningConfig(bald_passes=1))
    with pytest.raises(ConfigError, match=r"\(k=-50\)"):
        check_active_config(ActiveLearningConfig(labels=(100, 50)))
    config = ActiveLearningConfig(labels=(100, 200, 400))
    assert config.epochs == 3  # one round per entry of labels, derived
