"""The engine's direct fused Adam/AdamW step must update exactly as ``optimizer.step()`` does."""

import copy

import pytest
import torch
from torch import nn

from ember.train import fast_step
from ember.train.fast_step import FusedStep, gradient_clearer, optimizer_stepper


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))


def _backward(model: nn.Module, step: int, skip_last: bool = False) -> None:
    torch.manual_seed(100 + step)
    x = torch.randn(16, 6)
    if skip_last:  # the last layer gets no gradient this step
        loss = model[0](x).pow(2).mean()
    else:
        loss = model(x).pow(2).mean()
    loss.backward()


def _step_lr(optimizer):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)


def _one_cycle(optimizer):  # also cycles Adam's beta1 and SGD's momentum
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=20)


def _train_both(
    make_optimizer, steps: int = 12, skip_every: int = 0, reload_at: int = -1, schedule=_step_lr
):
    """Trains two copies, one with optimizer.step(), one with the engine's stepper."""
    reference, fast = _net(), _net()
    opt_ref, opt_fast = make_optimizer(reference), make_optimizer(fast)
    sched_ref, sched_fast = schedule(opt_ref), schedule(opt_fast)
    stepper = optimizer_stepper(opt_fast)
    clear = gradient_clearer(opt_fast)
    for step in range(steps):
        skip = bool(skip_every) and step % skip_every == skip_every - 1
        opt_ref.zero_grad(set_to_none=True)
        _backward(reference, step, skip)
        opt_ref.step()
        sched_ref.step()
        clear()
        _backward(fast, step, skip)
        stepper()
        sched_fast.step()
        if step == reload_at:  # a state swapped under the stepper must be picked up
            opt_fast.load_state_dict(copy.deepcopy(opt_fast.state_dict()))
    return reference, fast, opt_ref, opt_fast, stepper


def _assert_same(reference, fast, opt_ref, opt_fast) -> None:
    for p, q in zip(reference.parameters(), fast.parameters(), strict=True):
        assert torch.equal(p, q)
    for p, q in zip(reference.parameters(), fast.parameters(), strict=True):
        for key, value in opt_ref.state[p].items():
            assert torch.equal(value, opt_fast.state[q][key]), key


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda m: torch.optim.Adam(m.parameters(), lr=0.01, fused=True),
        lambda m: torch.optim.AdamW(m.parameters(), lr=0.01, weight_decay=0.1, fused=True),
        lambda m: torch.optim.Adam(
            m.parameters(), lr=0.01, amsgrad=True, weight_decay=0.01, fused=True
        ),
        lambda m: torch.optim.Adam(m.parameters(), lr=0.01, maximize=True, fused=True),
        lambda m: torch.optim.Adam(
            [
                {"params": m[0].parameters(), "lr": 0.02},
                {"params": m[2].parameters(), "betas": (0.8, 0.99)},
            ],
            lr=0.01,
            fused=True,
        ),
        lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, fused=True),
        lambda m: torch.optim.SGD(
            m.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, fused=True
        ),
        lambda m: torch.optim.SGD(
            m.parameters(), lr=0.05, momentum=0.5, dampening=0.1, maximize=True, fused=True
        ),
        lambda m: torch.optim.SGD(m.parameters(), lr=0.05, fused=True),  # no momentum buffers
    ],
    ids=[
        "adam",
        "adamw",
        "amsgrad",
        "maximize",
        "two-groups",
        "sgd-momentum",
        "sgd-nesterov",
        "sgd-dampening",
        "sgd-plain",
    ],
)
@pytest.mark.parametrize("schedule", [_step_lr, _one_cycle], ids=["step-lr", "one-cycle"])
def test_fused_step_is_bitwise_torchs(make_optimizer, schedule):
    reference, fast, opt_ref, opt_fast, stepper = _train_both(make_optimizer, schedule=schedule)
    assert isinstance(stepper, FusedStep)
    assert stepper._plan is not None  # the direct path ran
    _assert_same(reference, fast, opt_ref, opt_fast)


def test_parameters_without_gradients_and_reloaded_state_take_torchs_path():
    def make(m):
        return torch.optim.Adam(m.parameters(), lr=0.01, fused=True)

    reference, fast, opt_ref, opt_fast, _ = _train_both(make, steps=14, skip_every=3, reload_at=6)
    _assert_same(reference, fast, opt_ref, opt_fast)


def test_step_hooks_still_run():
    model = _net()
    adam = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)
    calls = []
    adam.register_step_post_hook(lambda *args: calls.append(1))
    stepper = optimizer_stepper(adam)
    for step in range(3):
        adam.zero_grad()
        _backward(model, step)
        stepper()
    assert len(calls) == 3


def test_other_optimizers_use_their_own_step():
    model = _net()
    for optimizer in (
        torch.optim.SGD(model.parameters(), lr=0.1),  # not fused
        torch.optim.RMSprop(model.parameters(), lr=0.1),
        torch.optim.Adam(model.parameters()),  # not fused: the user's choice of kernel stays
        torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01), fused=True),
    ):
        assert optimizer_stepper(optimizer) == optimizer.step


def test_gradient_clearer_covers_added_groups_and_respects_overrides():
    model = _net()
    sgd = torch.optim.SGD(model[0].parameters(), lr=0.1)
    clear = gradient_clearer(sgd)
    sgd.add_param_group({"params": model[2].parameters()})  # e.g. unfreezing while fine-tuning
    _backward(model, 0)
    clear()
    assert all(p.grad is None for p in model.parameters())

    class Counting(torch.optim.SGD):
        def zero_grad(self, set_to_none=True):
            self.cleared = True
            super().zero_grad(set_to_none)

    counting = Counting(model.parameters(), lr=0.1)
    gradient_clearer(counting)()
    assert counting.cleared


def test_an_empty_group_is_skipped():
    model = _net()
    adam = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)
    adam.add_param_group({"params": [], "lr": 0.1})
    stepper = optimizer_stepper(adam)
    for step in range(3):
        adam.zero_grad()
        _backward(model, step)
        stepper()
    assert stepper._plan is not None and int(adam.state[model[0].weight]["step"]) == 3


def test_a_torch_with_other_kernels_falls_back_to_optimizer_step(monkeypatch):
    def changed_kernel(*args, **kwargs):
        raise TypeError("_fused_adam_() got an unexpected keyword argument 'amsgrad'")

    monkeypatch.setattr(torch, "_ember_test_kernel", changed_kernel, raising=False)
    monkeypatch.setitem(fast_step._ADAM_KERNELS, False, "_ember_test_kernel")

    def make(m):
        return torch.optim.Adam(m.parameters(), lr=0.01, fused=True)

    reference, fast, opt_ref, opt_fast, stepper = _train_both(make, steps=5)
    assert stepper._disabled
    _assert_same(reference, fast, opt_ref, opt_fast)  # the failed call left no trace


def test_a_torch_without_the_kernels_uses_optimizer_step(monkeypatch):
    monkeypatch.setitem(fast_step._ADAM_KERNELS, False, "_no_such_kernel")

    def make(m):
        return torch.optim.Adam(m.parameters(), lr=0.01, fused=True)

    reference, fast, opt_ref, opt_fast, stepper = _train_both(make, steps=4)
    assert stepper._plan is None
    _assert_same(reference, fast, opt_ref, opt_fast)
