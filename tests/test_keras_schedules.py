"""ember.optimizers.schedules equals keras.optimizers.schedules step by step, and sets the
learning rate of every update when passed to an optimizer."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import ember
from ember import layers, optimizers
from ember.errors import ConfigError
from ember.optimizers import schedules

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

STEPS = [0, 1, 2, 5, 9, 10, 11, 19, 20, 37, 64, 150]
CONFIGS = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.6}),
    (
        "ExponentialDecay",
        {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.6, "staircase": True},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [5, 20, 37], "values": [1.0, 0.5, 0.1, 0.01]}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.5, "decay_steps": 4, "decay_rate": 0.3}),
    (
        "InverseTimeDecay",
        {"initial_learning_rate": 0.5, "decay_steps": 4, "decay_rate": 0.3, "staircase": True},
    ),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20}),
    (
        "PolynomialDecay",
        {
            "initial_learning_rate": 0.1,
            "decay_steps": 20,
            "end_learning_rate": 0.01,
            "power": 2.0,
            "cycle": True,
        },
    ),  # fmt: skip
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1}),
    (
        "CosineDecay",
        {"initial_learning_rate": 0.0, "decay_steps": 30, "warmup_target": 0.2, "warmup_steps": 10},
    ),  # fmt: skip
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    (
        "CosineDecayRestarts",
        {
            "initial_learning_rate": 0.1,
            "first_decay_steps": 10,
            "t_mul": 1.0,
            "m_mul": 0.5,
            "alpha": 0.2,
        },
    ),  # fmt: skip
    (
        "CosineDecayRestarts",
        {"initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 1.5, "m_mul": 0.8},
    ),
]


@pytest.mark.parametrize(("name", "config"), CONFIGS)
def test_schedule_values_equal_keras_at_every_step(name, config):
    ours = getattr(schedules, name)(**config)
    theirs = getattr(keras.optimizers.schedules, name)(**config)
    expected = [float(theirs(step)) for step in STEPS]
    assert [ours.value(step) for step in STEPS] == pytest.approx(
        expected, rel=1e-5, abs=1e-9
    )  # Keras: float32
    called = ours(torch.tensor(STEPS[4]))  # a tensor step, as Keras' optimizer passes
    assert called.dtype == torch.float32 and float(called) == pytest.approx(expected[4])


@pytest.mark.parametrize(("name", "config"), CONFIGS)
def test_schedule_config_round_trips_like_keras(name, config):
    schedule = getattr(schedules, name)(**config)
    keras_config = getattr(keras.optimizers.schedules, name)(**config).get_config()
    assert schedule.get_config() == pytest.approx(keras_config)
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == schedule.get_config()


class _RecordLearningRate(ember.Callback):
    def __init__(self):
        self.learning_rates = []

    def on_batch_start(self, batch, logs=None):
        self.learning_rates.append(self.trainer.optimizer.param_groups[0]["lr"])


def _fit(learning_rate, epochs=2):
    """Fit a tiny model for ``epochs`` x 4 batches; the learning rate of each update."""
    ember.set_seed(0)
    model = ember.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate), loss="mse")
    record = _RecordLearningRate()
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    model.fit(x, x.sum(1, keepdims=True), batch_size=8, epochs=epochs, verbose=0,
              callbacks=[record])  # fmt: skip
    return record.learning_rates


def test_fit_sets_each_update_learning_rate_from_a_keras_schedule():
    config = {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}
    keras_schedule = keras.optimizers.schedules.ExponentialDecay(**config)
    received = _fit(schedules.ExponentialDecay(**config))
    assert received == pytest.approx([float(keras_schedule(step)) for step in range(8)], rel=1e-6)


def test_fit_follows_a_custom_schedule_that_warms_up_from_zero():
    class Warmup(schedules.LearningRateSchedule):  # keras-io's style: no initial_learning_rate
        def __call__(self, step):
            return ember.ops.minimum(ember.ops.cast(step, "float32") * 0.01, 0.05)

    assert _fit(Warmup()) == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.05, 0.05])


def test_keras_schedule_names_are_ember_schedules():
    schedule = schedules.CosineDecay(0.1, decay_steps=10)
    assert isinstance(schedule, ember.schedules.CosineDecay)
    assert isinstance(schedule, schedules.LearningRateSchedule)
    assert optimizers.SGD(learning_rate=schedule).learning_rate == 0.1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "one more value"),
        (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.3, 0.2, 0.1]), "increasing"),
        (lambda: schedules.CosineDecay(0.1, None), "received decay_steps=None"),
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "received decay_steps=0"),
        (lambda: schedules.InverseTimeDecay(0.1, -1, 0.5), "received decay_steps=-1"),
        (lambda: schedules.PolynomialDecay(0.1, 10, power=0), "received power=0"),
        (lambda: schedules.CosineDecayRestarts(0.1, 10, alpha=2), "received alpha=2"),
        (lambda: schedules.deserialize({"class_name": "Nope"}), "custom_objects"),
        (lambda: schedules.serialize(0.1), "received float"),
    ],
)
def test_bad_schedule_arguments_raise_config_errors(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_a_schedule_without_call_says_what_to_write():
    with pytest.raises(NotImplementedError, match="must define __call__"):
        schedules.LearningRateSchedule()(0)
