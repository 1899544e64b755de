"""Learning-rate callbacks and the range test set the base rate: discriminative learning rates
(param groups with an ``lr_scale``) keep their ratios, and the logs hold the head's rate."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ember
from ember import optimizers, transfer
from ember.callbacks import LambdaCallback, LearningRateScheduler, ReduceLROnPlateau
from ember.callbacks.learning_rate import current_learning_rate, set_learning_rate
from ember.models.lr_finder import LearningRateRangeTest, find_learning_rate
from ember.train.stepping import parameter_groups


def _scaled_net() -> nn.Sequential:
    """Two layer groups: the body learns at 1/100 of the head's rate."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    assert transfer.discriminative_learning_rates(net, ratio=100.0) == {"0": 0.01, "2": 1.0}
    return net


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(64, 3, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def _fit(callbacks, epochs: int, learning_rate: float = 0.1) -> ember.Trainer:
    trainer = ember.Trainer(
        ember.Supervised(_scaled_net(), "mse"), optimizers.SGD(learning_rate), device="cpu"
    )
    trainer.fit(_data(), epochs=epochs, batch_size=16, callbacks=callbacks, verbose=0)
    return trainer


def _scaled_net_groups() -> list[dict]:
    return parameter_groups(list(_scaled_net().parameters()), 1.0)


def _rates(optimizer: torch.optim.Optimizer) -> list[tuple[float, float]]:
    """Each param group's (lr, lr_scale), body first."""
    return [(group["lr"], group["lr_scale"]) for group in optimizer.param_groups]


class _RatesPerBatch(ember.Callback):
    """Every param group's lr at the start of each batch."""

    def __init__(self) -> None:
        self.rates: list[list[float]] = []

    def on_batch_start(self, batch, logs=None):
        self.rates.append([group["lr"] for group in self.trainer.optimizer.param_groups])


def _logged(into: list) -> LambdaCallback:
    return LambdaCallback(on_epoch_end=lambda epoch, logs: into.append(logs["learning_rate"]))


def test_learning_rate_scheduler_sets_the_base_rate_and_keeps_the_ratio():
    seen, logged = _RatesPerBatch(), []
    scheduler = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    trainer = _fit([scheduler, seen, _logged(logged)], epochs=3)
    # The schedule is given the head's rate (0.1), not the body's (0.001).
    assert logged == [0.05, 0.025, 0.0125]
    bases = [0.05] * 4 + [0.025] * 4 + [0.0125] * 4
    assert seen.rates == [[base * 0.01, base] for base in bases]
    assert _rates(trainer.optimizer) == [(0.0125 * 0.01, 0.01), (0.0125, 1.0)]
    body, head = trainer.optimizer.param_groups
    assert head["lr"] / body["lr"] == pytest.approx(100.0, rel=1e-12)


def test_reduce_lr_on_plateau_reduces_the_base_rate_and_keeps_the_ratio():
    flat = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=1.0))
    seen, logged = _RatesPerBatch(), []
    reduce = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_delta=0)
    trainer = _fit([flat, reduce, seen, _logged(logged)], epochs=6)
    # The same bases as without lr scales (tests/test_callbacks.py): each drop acts next epoch.
    assert logged == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]
    bases = [base for base in [0.1, 0.1, 0.1, 0.05, 0.05, 0.025] for _ in range(4)]
    assert seen.rates == [[base * 0.01, base] for base in bases]
    assert _rates(trainer.optimizer) == [(0.025 * 0.01, 0.01), (0.025, 1.0)]


def test_reduce_lr_on_plateau_bounds_the_base_rate_by_min_lr():
    # Bare torch would hold the body at 1e-7 (it is under min_lr=1e-6, and its first change,
    # to 5e-8, is under torch's eps=1e-8): here the body follows the head all the way down.
    net = _scaled_net()
    groups = parameter_groups(list(net.parameters()), 1e-5)
    optimizer = torch.optim.SGD(groups, lr=1e-5)
    reduce = ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, min_delta=0, min_lr=1e-6)
    reduce.set_trainer(SimpleNamespace(optimizer=optimizer, scheduler=None))
    reduce.on_fit_start({})
    bases = []
    for epoch in range(8):
        reduce.on_epoch_end(epoch, {"score": 1.0})
        bases.append(current_learning_rate(optimizer))
        assert [group["lr"] for group in optimizer.param_groups] == [bases[-1] * 0.01, bases[-1]]
    assert bases == [1e-5, 5e-6, 2.5e-6, 1.25e-6, 1e-6, 1e-6, 1e-6, 1e-6]


def test_without_lr_scales_the_rates_are_set_and_read_as_before():
    first, second = torch.zeros(1), torch.zeros(1)
    optimizer = torch.optim.SGD([{"params": [first], "lr": 0.3}, {"params": [second]}], lr=0.2)
    assert current_learning_rate(optimizer) == 0.3  # the first group's rate, as it is
    set_learning_rate(optimizer, 0.123)
    assert [group["lr"] for group in optimizer.param_groups] == [0.123, 0.123]


def test_the_base_rate_is_read_exactly_from_the_head_group():
    # 0.03 * 0.01 / 0.01 != 0.03 in floating point: the head (scale 1) is read instead.
    assert 0.03 * 0.01 / 0.01 != 0.03
    optimizer = torch.optim.SGD(_scaled_net_groups(), lr=1.0)
    set_learning_rate(optimizer, 0.03)
    assert current_learning_rate(optimizer) == 0.03


def test_without_a_head_group_the_base_is_the_first_group_over_its_scale():
    first, second = torch.zeros(1), torch.zeros(1)
    optimizer = torch.optim.SGD(
        [{"params": [first], "lr": 0.5, "lr_scale": 0.5}, {"params": [second], "lr_scale": 0.25}],
        lr=1.0,
    )
    assert current_learning_rate(optimizer) == 1.0
    set_learning_rate(optimizer, 0.4)
    assert [group["lr"] for group in optimizer.param_groups] == [0.2, 0.1]


def test_the_range_test_sets_the_base_rate_and_keeps_the_ratio():
    seen = _RatesPerBatch()
    range_test = LearningRateRangeTest(start_lr=1e-4, end_lr=1.0, num_steps=5, diverge=1e9)
    trainer = ember.Trainer(
        ember.Supervised(_scaled_net(), "mse"), optimizers.SGD(0.1), device="cpu"
    )
    trainer.fit(_data(), epochs=2, batch_size=16, callbacks=[range_test, seen], verbose=0)
    bases = [range_test.learning_rate(step) for step in range(5)]
    assert range_test.learning_rates == bases  # the rates recorded are the base (the head's)
    assert seen.rates == [[base * 0.01, base] for base in bases]


class _RecordingSGD(torch.optim.SGD):
    """torch's SGD that keeps every param group's lr at each step (a subclass: not fused)."""

    def __init__(self, params, lr: float) -> None:
        super().__init__(params, lr=lr)
        self.rates: list[list[float]] = []

    def step(self, closure=None):
        self.rates.append([group["lr"] for group in self.param_groups])
        return super().step(closure)


def test_find_learning_rate_keeps_the_ratio_and_restores_the_groups():
    net = _scaled_net()
    optimizer = _RecordingSGD(parameter_groups(list(net.parameters()), 0.1), lr=0.1)
    task = ember.Supervised(net, "mse")
    result = find_learning_rate(
        task, _data(), optimizer=optimizer, num_steps=6, batch_size=16, diverge=1e9, device="cpu"
    )
    bases = [LearningRateRangeTest(1e-7, 10.0, 6).learning_rate(step) for step in range(6)]
    assert result.learning_rates == bases  # the rates recorded are the base (the head's)
    assert optimizer.rates == [[base * 0.01, base] for base in bases]
    assert _rates(optimizer) == [(0.1 * 0.01, 0.01), (0.1, 1.0)]  # restored afterwards
