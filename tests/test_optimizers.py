"""Optimizer specs: Keras names and defaults -> the right torch optimizers; clipping; errors."""

from __future__ import annotations

import functools

import pytest
import torch

from ember import optimizers
from ember.errors import ConfigError, UnknownNameError
from ember.schedules import ExponentialDecay


def _params() -> list[torch.nn.Parameter]:
    return list(torch.nn.Linear(3, 2).parameters())


@pytest.mark.parametrize(
    ("spec", "torch_class", "expected"),
    [
        (
            optimizers.SGD(),
            torch.optim.SGD,
            {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
        ),
        (
            optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
            torch.optim.SGD,
            {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4},
        ),
        (
            optimizers.Adam(),
            torch.optim.Adam,
            {
                "lr": 0.001,
                "betas": (0.9, 0.999),
                "eps": 1e-7,
                "amsgrad": False,
                "weight_decay": 0.0,
            },
        ),
        (
            optimizers.Adam(0.01, beta_1=0.8, amsgrad=True, weight_decay=0.1),
            torch.optim.AdamW,
            {"lr": 0.01, "betas": (0.8, 0.999), "amsgrad": True, "weight_decay": 0.1},
        ),
        (
            optimizers.AdamW(),
            torch.optim.AdamW,
            {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-7, "weight_decay": 0.004},
        ),
        (
            optimizers.RMSprop(rho=0.8, momentum=0.5, centered=True),
            torch.optim.RMSprop,
            {"lr": 0.001, "alpha": 0.8, "momentum": 0.5, "eps": 1e-7, "centered": True},
        ),
        (
            optimizers.Adagrad(),
            torch.optim.Adagrad,
            {"lr": 0.001, "initial_accumulator_value": 0.1, "eps": 1e-7},
        ),
        (
            optimizers.Rprop(),
            torch.optim.Rprop,
            {"lr": 0.01, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)},
        ),
        (optimizers.SGD(maximize=True), torch.optim.SGD, {"maximize": True}),
    ],
)
def test_spec_builds_torch_optimizer_with_keras_hyperparameters(spec, torch_class, expected):
    optimizer = spec.build(_params())
    assert type(optimizer) is torch_class
    group = optimizer.param_groups[0]
    for name, value in expected.items():
        assert group[name] == value, name
    assert len(group["params"]) == 2


@pytest.mark.parametrize(
    ("name", "spec_class"),
    [
        ("sgd", optimizers.SGD),
        ("Adam", optimizers.Adam),
        ("ADAMW", optimizers.AdamW),
        ("RMSprop", optimizers.RMSprop),
        ("rms_prop", optimizers.RMSprop),
        ("adagrad", optimizers.Adagrad),
        ("Rprop", optimizers.Rprop),
    ],
)
def test_get_name_returns_default_spec_ignoring_case(name, spec_class):
    spec = optimizers.get(name)
    assert type(spec) is spec_class
    assert spec.learning_rate == optimizers.DEFAULT_LEARNING_RATES[spec_class]


def test_get_unknown_name_raises_with_close_match():
    with pytest.raises(UnknownNameError, match="Did you mean 'adam'"):
        optimizers.get("adma")


def test_get_returns_spec_itself_and_wraps_torch_optimizers_and_factories():
    spec = optimizers.SGD(0.5)
    assert optimizers.get(spec) is spec

    params = _params()
    existing = torch.optim.SGD(params, lr=0.25)
    wrapped = optimizers.get(existing)
    assert wrapped.build(_params()) is existing  # params ignored
    assert wrapped.learning_rate == 0.25 and not wrapped.clips and wrapped.schedule is None

    factory = optimizers.get(functools.partial(torch.optim.SGD, lr=0.3, momentum=0.5))
    built = factory.build(params)
    assert type(built) is torch.optim.SGD and built.param_groups[0]["momentum"] == 0.5
    assert factory.learning_rate == 0.3

    from_class = optimizers.get(torch.optim.Adam).build(params)
    assert type(from_class) is torch.optim.Adam


def test_get_rejects_other_objects():
    with pytest.raises(ConfigError, match="received 3"):
        optimizers.get(3)


def test_invalid_hyperparameters_raise_with_the_value():
    with pytest.raises(
        ConfigError, match=r"^expected a positive number, received learning_rate=-1$"
    ):
        optimizers.SGD(learning_rate=-1)
    with pytest.raises(ConfigError, match=r"received momentum=1.0"):
        optimizers.SGD(momentum=1.0)
    with pytest.raises(ConfigError, match=r"received momentum=-0.1"):
        optimizers.RMSprop(momentum=-0.1)
    with pytest.raises(ConfigError, match="nesterov=True needs momentum > 0.*Fix"):
        optimizers.SGD(nesterov=True)
    with pytest.raises(ConfigError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ConfigError, match="received clipnorm=0"):
        optimizers.Adam(clipnorm=0)
    with pytest.raises(ConfigError, match="received beta_1=1.5"):
        optimizers.Adam(beta_1=1.5)


def test_sgd_nesterov_steps_equal_torch_and_the_closed_form():
    torch.manual_seed(0)
    target = torch.randn(5)
    start = torch.randn(5)
    ours = torch.nn.Parameter(start.clone())
    theirs = torch.nn.Parameter(start.clone())
    optimizer = optimizers.SGD(0.1, momentum=0.9, nesterov=True).build([ours])
    reference = torch.optim.SGD([theirs], lr=0.1, momentum=0.9, nesterov=True)
    for step in range(3):
        for weight, opt in ((ours, optimizer), (theirs, reference)):
            opt.zero_grad()
            ((weight - target) ** 2).sum().backward()
            opt.step()
        if step == 0:  # buffer = g, update = g + momentum * buffer = 1.9 g, g = 2 (w - target)
            expected = start - 0.1 * 1.9 * 2 * (start - target)
            torch.testing.assert_close(ours.detach(), expected)
    assert torch.equal(ours, theirs)


def _with_grads(*grads: list[float]) -> list[torch.nn.Parameter]:
    params = []
    for grad in grads:
        param = torch.nn.Parameter(torch.zeros(len(grad)))
        param.grad = torch.tensor(grad)
        params.append(param)
    return params


def test_clipnorm_clips_each_gradient_to_the_norm_separately():
    big, small = _with_grads([3.0, 4.0], [0.3, 0.4])
    optimizers.clip_gradients([big, small], optimizers.SGD(clipnorm=1.0))
    torch.testing.assert_close(big.grad, torch.tensor([0.6, 0.8]))  # 5 -> 1
    torch.testing.assert_close(small.grad, torch.tensor([0.3, 0.4]))  # 0.5 < 1: unchanged


def test_global_clipnorm_scales_all_gradients_together():
    big, small = _with_grads([3.0, 4.0], [0.0, 0.0, 12.0])  # global norm 13
    optimizers.clip_gradients([big, small], optimizers.SGD(global_clipnorm=1.0))
    torch.testing.assert_close(big.grad, torch.tensor([3.0, 4.0]) / 13, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        small.grad, torch.tensor([0.0, 0.0, 12.0]) / 13, rtol=1e-5, atol=1e-6
    )


def test_clipvalue_clamps_each_element():
    (param,) = _with_grads([-2.0, 0.1, 0.7])
    spec = optimizers.SGD(clipvalue=0.5)
    assert spec.clips
    optimizers.clip_gradients([param], spec)
    torch.testing.assert_close(param.grad, torch.tensor([-0.5, 0.1, 0.5]))


def test_maximize_increases_the_objective():
    weight = torch.nn.Parameter(torch.tensor([0.0]))
    optimizer = optimizers.SGD(0.1, maximize=True).build([weight])
    values = []
    for _ in range(20):
        optimizer.zero_grad()
        objective = -((weight - 3.0) ** 2).sum()
        values.append(objective.item())
        objective.backward()
        optimizer.step()
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert abs(weight.item() - 3.0) < 0.1


def test_schedule_as_learning_rate_sets_the_initial_lr():
    schedule = ExponentialDecay(0.05, decay_steps=10, decay_rate=0.5)
    spec = optimizers.Adam(learning_rate=schedule)
    assert spec.schedule is schedule and spec.learning_rate == 0.05
    assert spec.build(_params()).param_groups[0]["lr"] == 0.05
    constant = spec.without_schedule()
    assert constant.schedule is None and constant.learning_rate == 0.05
    assert spec.schedule is schedule  # the original is unchanged
