"""AdversarialTraining: each step's loss is the supervised loss on the PGD-attacked batch (a
reference computed by hand), validation stays clean, and bad radii are refused."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from ember import attacks
from ember.errors import ConfigError
from ember.tasks import AdversarialTraining


def mlp() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def test_a_step_is_the_loss_on_the_attacked_batch_and_validation_is_clean():
    net = mlp()
    x, y = torch.rand(32, 8), torch.randint(0, 3, (32,))
    task = AdversarialTraining(
        net, "sparse_categorical_crossentropy", epsilon=0.2, steps=3, from_logits=True
    )
    task.setup((x, y), torch.device("cpu"))
    torch.manual_seed(5)
    received = task.training_step((x, y))["loss"]
    torch.manual_seed(5)
    attacked = attacks.pgd(net, x, y, 0.2, steps=3)
    torch.testing.assert_close(received, F.cross_entropy(net(attacked), y))
    assert received > F.cross_entropy(net(x), y)  # the attack raised the loss
    clean = task.validation_step((x, y))["loss"]
    torch.testing.assert_close(clean, F.cross_entropy(net(x), y))


def features(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three robust features (class gaps of 0.5) and 30 non-robust ones (gaps of 0.04, nearly
    noise-free): clean training leans on the many small ones, which an attack of 0.1 erases."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (count,), generator=generator)
    onehot = F.one_hot(y, 3).float()
    robust = 0.25 + 0.5 * onehot + 0.12 * torch.randn(count, 3, generator=generator)
    fragile = (
        0.5 + 0.04 * onehot.repeat(1, 10) + 0.005 * torch.randn(count, 30, generator=generator)
    )
    return torch.cat([robust, fragile], 1).clamp(0, 1), y


def test_fast_adversarial_training_makes_the_network_more_robust():
    x, y = features(900, seed=0)
    test_x, test_y = features(600, seed=1)
    scores = {}
    for name, epsilon in (("clean", None), ("adversarial", 0.1)):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(33, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
        if epsilon is None:
            task = ember.Supervised(net, "sparse_categorical_crossentropy", from_logits=True)
        else:
            task = AdversarialTraining(
                net, epsilon=epsilon, steps=1, step_size=1.25 * epsilon, from_logits=True
            )
        ember.Trainer(task, ember.optimizers.Adam(0.01), device="cpu").fit(
            (x, y), epochs=20, batch_size=64, verbose=0
        )
        scores[name] = attacks.robust_accuracy(net, test_x, test_y, [0, 0.1], steps=10)
    assert scores["clean"][0] > 0.95 and scores["adversarial"][0] > 0.8
    assert scores["adversarial"][0.1] > scores["clean"][0.1] + 0.2, scores


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="epsilon"):
        AdversarialTraining(mlp(), epsilon=-0.1)
    with pytest.raises(ConfigError, match="norm"):
        AdversarialTraining(mlp(), epsilon=0.1, norm="l0")
