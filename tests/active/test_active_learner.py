"""The active-learning loop: fresh classifier, test accuracy, top-k acquisition, exact resume."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ember.active import ActiveLearner, RoundSettings, train_classifier
from ember.active import learner as learner_module
from ember.errors import ConfigError, DataError, UnknownNameError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SETTINGS = RoundSettings(steps=6, batch_size=8, score_subset=40, passes=3)


def dataset(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """4x4 one-channel images of 3 classes: class c lights up row c over faint noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 3
    images = 0.2 * torch.rand(count, 4, 4, 1, generator=generator)
    images[torch.arange(count), labels, :, 0] += 0.8
    return images, labels


POOL, TEST = dataset(90, 0), dataset(30, 1)


def network() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 3)
    )


def learner(strategy="margin", schedule=(10, 20, 30), seed=0, **settings):
    return ActiveLearner(
        strategy,
        POOL,
        TEST,
        schedule,
        network=network,
        settings=RoundSettings(**{**SETTINGS.__dict__, **settings}),
        seed=seed,
    )


def test_a_round_labels_the_k_best_scored_images_and_reports_the_test_accuracy(monkeypatch):
    scored, trained = [], []
    score_pool, train = learner_module.score_pool, learner_module.train_classifier

    def spy_score(strategy, network, images, **kwargs):
        scores = score_pool(strategy, network, images, **kwargs)
        scored.append((images, scores))
        return scores

    def spy_train(network, train_split, settings, *, seed):
        trained.append((network, train_split))
        return train(network, train_split, settings, seed=seed)

    monkeypatch.setattr(learner_module, "score_pool", spy_score)
    monkeypatch.setattr(learner_module, "train_classifier", spy_train)
    active = learner()
    first = active.pools.labelled.clone()
    logs = active.step()

    net, (x, y) = trained[0]
    assert torch.equal(x, POOL[0][first]) and torch.equal(y, POOL[1][first])  # labelled only
    expected = (net(TEST[0]).argmax(-1) == TEST[1]).double().mean().item()
    assert logs == {"labels": 10, "accuracy": expected}
    images, scores = scored[0]
    assert len(images) == 40  # the random subset of the unlabelled pool
    new = active.pools.labelled[10:]
    assert len(new) == 10 and torch.equal(
        POOL[0][new], images[scores.argsort(descending=True)[:10]]
    )
    assert not set(new.tolist()) & set(first.tolist())


def test_each_round_starts_from_fresh_weights():
    made = []

    def make():
        made.append(network())
        return made[-1]

    active = ActiveLearner("entropy", POOL, TEST, (10, 20), network=make, settings=SETTINGS)
    active.step(), active.step()
    assert len(made) == 2 and made[0] is not made[1]
    assert not torch.equal(made[0][1].weight, made[1][1].weight)


def test_train_classifier_takes_at_least_steps_steps_in_whole_epochs():
    calls = []
    net = network()
    net.register_forward_hook(lambda module, inputs, output: calls.append(module.training))
    train_classifier(
        net, (POOL[0][:20], POOL[1][:20]), RoundSettings(steps=5, batch_size=8), seed=0
    )
    assert sum(calls) == 6  # 3 batches of 20 images per epoch, ceil(5 / 3) = 2 epochs
    assert not net.training


def test_the_same_seed_gives_the_same_run_and_a_restored_learner_continues_exactly():
    whole = learner("bald")
    for _ in range(3):
        whole.step()
    part = learner("bald")
    part.step()
    state = part.state_dict()
    torch.manual_seed(1234)  # whatever ran in between does not matter
    resumed = learner("bald")
    resumed.load_state_dict(state)
    resumed.step(), resumed.step()
    assert resumed.accuracies == whole.accuracies and resumed.done
    assert torch.equal(resumed.pools.labelled, whole.pools.labelled)
    assert torch.equal(resumed.pools.unlabelled, whole.pools.unlabelled)
    other = learner("bald", seed=1)
    assert not torch.equal(other.pools.labelled, whole.pools.labelled)


def test_random_sampling_learns_from_a_seeded_uniform_pick():
    first, second = learner("random"), learner("random")
    first.step(), second.step()
    assert torch.equal(first.pools.labelled, second.pools.labelled)
    assert 0.0 <= first.accuracies[0] <= 1.0


def test_bad_settings_are_refused_before_any_training(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("trained before the settings were checked")

    monkeypatch.setattr(learner_module, "train_classifier", never)
    with pytest.raises(
        ConfigError, match=r"label budget \(100 labels\) is larger than the pool of 90"
    ):
        learner(schedule=(10, 50, 100))
    with pytest.raises(ConfigError, match=r"initial labelled pool \(95 labels\) is larger"):
        learner(schedule=(95,))
    with pytest.raises(ConfigError, match=r"k > 0 new labels.*\(k=0\)"):
        learner(schedule=(10, 10))
    with pytest.raises(UnknownNameError, match="Known acquisition strategies: bald, entropy"):
        learner("uncertainty")
    with pytest.raises(ConfigError, match="k=30 labels but only score_subset=20"):
        learner(schedule=(10, 40), score_subset=20)
    with pytest.raises(ConfigError, match="BALD needs dropout layers"):
        ActiveLearner("bald", POOL, TEST, (10, 20), network=lambda: nn.Linear(16, 3))
    with pytest.raises(DataError, match="expected pool images .* and N integer labels"):
        learner_module.ActiveLearner(
            "margin", (POOL[0], POOL[1].float()), TEST, (10,), network=network
        )
    with pytest.raises(ConfigError, match="expected a positive integer, received steps=0"):
        RoundSettings(steps=0)


def test_a_learner_past_its_last_round_says_so():
    active = learner(schedule=(10,))
    assert active.step()["labels"] == 10 and active.done
    assert len(active.pools.labelled) == 10  # the last round acquires nothing
    with pytest.raises(ConfigError, match="all 1 rounds of the schedule are done"):
        active.step()
