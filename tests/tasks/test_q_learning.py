"""The DQN update: TD targets by hand, Double DQN, termination vs bootstrapping, the engine step."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.nn import functional

import ember
from ember.errors import ShapeError
from ember.tasks import QLearning


def linear_q(weight: list[list[float]]) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
    return layer


# Q(s) = W s: the online network's and the target's values for two next states, by hand.
NEXT = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
ONLINE = [[1.0, 3.0], [2.0, 0.0]]  # Q_online(next0) = [1, 2], Q_online(next1) = [3, 0]
TARGET = [[5.0, 4.0], [1.0, 6.0]]  # Q_target(next0) = [5, 1], Q_target(next1) = [4, 6]
REWARDS = torch.tensor([1.0, -1.0])


def task_with(double: bool) -> QLearning:
    task = QLearning(linear_q(ONLINE), double=double)
    task.target = linear_q(TARGET)
    return task


def test_dqn_target_is_reward_plus_discounted_max_of_the_target_network():
    targets = task_with(False).td_target(REWARDS, NEXT, torch.tensor([0.9, 0.5]))
    # max Q_target(next0) = 5, max Q_target(next1) = 6
    assert targets.tolist() == pytest.approx([1 + 0.9 * 5, -1 + 0.5 * 6])


def test_double_dqn_target_evaluates_the_online_networks_choice_with_the_target():
    targets = task_with(True).td_target(REWARDS, NEXT, torch.tensor([0.9, 0.5]))
    # online argmax: next0 -> action 1 (2 > 1), next1 -> action 0 (3 > 0); target values 1 and 4
    assert targets.tolist() == pytest.approx([1 + 0.9 * 1, -1 + 0.5 * 4])


def test_a_terminated_transition_does_not_bootstrap():
    for double in (False, True):
        targets = task_with(double).td_target(REWARDS, NEXT, torch.zeros(2))
        assert targets.tolist() == REWARDS.tolist()


def test_loss_is_the_huber_td_error_of_the_actions_taken_weighted_for_prioritized_replay():
    task = task_with(False)
    observations = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    actions = torch.tensor([0, 1])
    discounts = torch.tensor([0.9, 0.0])
    batch = (observations, actions, REWARDS, NEXT, discounts)
    values = torch.tensor([1 + 3.0, 2 * 2.0])  # Q(s0)[0] = 1 + 3, Q(s1)[1] = 2 * 2
    targets = torch.tensor([1 + 0.9 * 5, -1.0])
    expected = functional.smooth_l1_loss(values, targets)
    outputs = task.training_step(batch)
    assert outputs["loss"].item() == pytest.approx(expected.item())
    assert outputs["q_value"].item() == pytest.approx(values.mean().item())
    assert task.last_td_error.tolist() == pytest.approx((values - targets).tolist())
    weights = torch.tensor([0.5, 1.0])
    weighted = task.training_step((*batch, weights))["loss"]
    per_sample = functional.smooth_l1_loss(values, targets, reduction="none")
    assert weighted.item() == pytest.approx((per_sample * weights).mean().item())
    mse = QLearning(linear_q(ONLINE), loss="mse")
    mse.target = linear_q(TARGET)
    assert mse.training_step(batch)["loss"].item() == pytest.approx(
        functional.mse_loss(values, targets).item()
    )


def test_update_target_copies_or_averages():
    task = QLearning(linear_q(ONLINE))
    task.target = linear_q(TARGET)
    task.update_target(tau=0.1)
    expected = 0.1 * torch.tensor(ONLINE) + 0.9 * torch.tensor(TARGET)
    assert torch.allclose(task.target.weight, expected)
    task.update_target()
    assert torch.equal(task.target.weight, task.module.weight)
    assert not QLearning(linear_q(ONLINE)).target.weight.requires_grad  # never trained itself


def test_the_engine_step_matches_a_hand_written_adam_step_with_clipping():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    reference = copy.deepcopy(network)
    batch = (
        torch.randn(16, 4) * 5,
        torch.randint(0, 2, (16,)),
        torch.randn(16) * 10,
        torch.randn(16, 4),
        torch.full((16,), 0.99),
    )
    task = QLearning(network, double=True)
    optimizer = ember.optimizers.Adam(learning_rate=1e-2, global_clipnorm=0.5)
    trainer = ember.Trainer(task, optimizer, device="cpu")
    reference_task = QLearning(reference, double=True)
    torch_adam = torch.optim.Adam(reference.parameters(), lr=1e-2, eps=trainer_eps(trainer, batch))
    for _ in range(3):
        trainer.train_on_batch(batch)
        torch_adam.zero_grad()
        reference_task.training_step(batch)["loss"].backward()
        torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5)
        torch_adam.step()
    for mine, theirs in zip(network.parameters(), reference.parameters()):
        assert torch.allclose(mine, theirs, atol=1e-6)


def trainer_eps(trainer: ember.Trainer, batch: tuple) -> float:
    trainer.build(batch)
    return trainer.optimizer.defaults["eps"]


def test_a_batch_that_is_not_a_transition_is_refused():
    trainer = ember.Trainer(QLearning(torch.nn.Linear(2, 2)), device="cpu")
    with pytest.raises(ShapeError, match="observations, actions, rewards"):
        trainer.train_on_batch((torch.zeros(4, 2), torch.zeros(4)))
