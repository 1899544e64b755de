"""Learning-rate schedules follow Keras' closed-form formulas, also inside the trainer."""

from __future__ import annotations

import math

import pytest
import torch

from ember import optimizers
from ember.errors import ConfigError
from ember.schedules import (
    CosineDecay,
    ExponentialDecay,
    OneCycle,
    StepDecay,
    learning_rate_at,
    learning_rate_curve,
)
from ember.train import Task
from ember.train.trainer import Trainer


def _keras_cosine(step, initial, decay_steps, alpha=0.0, warmup_steps=0, warmup_target=None):
    """keras.optimizers.schedules.CosineDecay.__call__, written out."""

    def decay(step, start):
        cosine = 0.5 * (1 + math.cos(math.pi * step / decay_steps))
        return start * ((1 - alpha) * cosine + alpha)

    if warmup_target is None:
        return decay(min(step, decay_steps), initial)
    step = min(step, decay_steps + warmup_steps)
    if step < warmup_steps:
        return initial + (warmup_target - initial) * step / warmup_steps
    return decay(step - warmup_steps, warmup_target)


def test_exponential_decay_matches_keras_formula():
    schedule = ExponentialDecay(0.1, decay_steps=7, decay_rate=0.6)
    expected = [0.1 * 0.6 ** (step / 7) for step in range(40)]
    assert learning_rate_curve(schedule, 40) == pytest.approx(expected, rel=1e-9)
    assert schedule.interval == "step"


def test_exponential_decay_staircase_matches_keras_formula():
    schedule = ExponentialDecay(0.1, decay_steps=7, decay_rate=0.6, staircase=True)
    expected = [0.1 * 0.6 ** (step // 7) for step in range(40)]
    assert learning_rate_curve(schedule, 40) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "arguments",
    [
        {"initial": 0.1, "decay_steps": 20},
        {"initial": 0.1, "decay_steps": 20, "alpha": 0.1},
        {"initial": 0.0, "decay_steps": 20, "warmup_steps": 5, "warmup_target": 0.2},
        {
            "initial": 0.01,
            "decay_steps": 20,
            "alpha": 0.05,
            "warmup_steps": 8,
            "warmup_target": 0.1,
        },
    ],
)
def test_cosine_decay_with_warmup_matches_keras_formula(arguments):
    initial = arguments.pop("initial")
    schedule = CosineDecay(initial, **arguments)
    expected = [_keras_cosine(step, initial, **arguments) for step in range(40)]  # past the end
    assert learning_rate_curve(schedule, 40) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_cosine_decay_without_decay_steps_spans_the_run():
    schedule = CosineDecay(0.1, warmup_steps=10, warmup_target=1.0)
    curve = learning_rate_curve(schedule, 101)  # 10 warm-up steps, then 91 to decay over
    expected = [_keras_cosine(s, 0.1, 91, warmup_steps=10, warmup_target=1.0) for s in range(101)]
    assert curve == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert curve[10] == pytest.approx(1.0)
    assert 0 < curve[-1] < 1e-3  # the floor (0) is reached just after the last update


def test_step_decay_multiplies_every_step_size_epochs():
    schedule = StepDecay(3, gamma=0.5, initial_learning_rate=0.8)
    assert schedule.interval == "epoch"
    expected = [0.8 * 0.5 ** (epoch // 3) for epoch in range(10)]
    assert learning_rate_curve(schedule, 10) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("steps", [2, 3, 10])
def test_one_cycle_runs_on_runs_too_short_for_its_warm_up(steps):
    # pct_start * steps = 1 made torch divide by zero (10 steps at pct_start=0.1).
    curve = learning_rate_curve(OneCycle(0.5, pct_start=0.1), steps)
    assert len(curve) == steps and max(curve) <= 0.5 + 1e-9 and curve[0] == pytest.approx(0.02)


def test_one_cycle_peaks_at_max_learning_rate():
    curve = learning_rate_curve(OneCycle(0.5, pct_start=0.25), 100)
    peak = max(range(100), key=curve.__getitem__)
    assert curve[peak] == pytest.approx(0.5)
    assert peak == pytest.approx(25, abs=1)
    assert curve[0] == pytest.approx(0.5 / 25)
    assert curve[-1] == pytest.approx(0.5 / 25 / 1e4)


def test_schedule_sets_the_optimizer_initial_learning_rate():
    assert optimizers.SGD(learning_rate=OneCycle(0.5)).learning_rate == pytest.approx(0.02)
    assert optimizers.SGD(learning_rate=StepDecay(2)).learning_rate == 0.01  # SGD's default
    cosine = optimizers.Adam(learning_rate=CosineDecay(0.3, decay_steps=10))
    assert cosine.build([torch.nn.Parameter(torch.zeros(1))]).param_groups[0]["lr"] == 0.3


def test_learning_rate_at_reads_one_step_and_checks_range():
    schedule = ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    assert learning_rate_at(schedule, 4) == pytest.approx(0.0625)
    with pytest.raises(ConfigError, match="past the end"):
        learning_rate_at(schedule, 5, total_steps=5)


def test_invalid_schedule_arguments_raise():
    with pytest.raises(ConfigError, match="received decay_steps=0"):
        ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ConfigError, match="received initial_learning_rate=-0.1"):
        CosineDecay(-0.1)
    with pytest.raises(ConfigError, match="received pct_start=1.5"):
        OneCycle(0.1, pct_start=1.5)
    with pytest.raises(ConfigError, match="OneCycle needs the run's length"):
        learning_rate_curve(OneCycle(0.1), 1)


class _RegressionTask(Task):
    """The smallest task the engine accepts: a module and a loss per batch."""

    def __init__(self) -> None:
        super().__init__(torch.nn.Linear(2, 1))

    def training_step(self, batch):
        x, y = batch
        return {"loss": torch.nn.functional.mse_loss(self.module(x), y)}


def _data(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, 2)
    return x, x.sum(1, keepdim=True)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5), 0.1 * 0.5 ** (12 / 4)),  # per step
        (StepDecay(1, gamma=0.5, initial_learning_rate=0.1), 0.1 * 0.5**3),  # per epoch
        (CosineDecay(0.1), 0.0),  # decays over the whole run
    ],
)
def test_trainer_steps_the_schedule_at_its_interval(schedule, expected):
    trainer = Trainer(
        _RegressionTask(), optimizers.SGD(learning_rate=schedule), epochs=3, device="cpu"
    )
    trainer.fit(_data(32), batch_size=8, verbose=0)  # 4 steps per epoch, 12 in all
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(expected, abs=1e-12)


def test_trainer_runs_one_cycle_to_its_last_step():
    trainer = Trainer(
        _RegressionTask(), optimizers.SGD(learning_rate=OneCycle(0.1)), epochs=3, device="cpu"
    )
    trainer.fit(_data(32), batch_size=8, verbose=0)  # OneCycleLR raises if stepped past its end
    assert trainer.scheduler.last_epoch == 12
