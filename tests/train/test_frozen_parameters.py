"""The engine trains only the parameters that require gradients, and per-parameter lr scales."""

import pytest
import torch
from torch import nn

import ember
from ember import optimizers, schedules
from ember.train.fast_step import FusedStep
from ember.train.stepping import build_steps, parameter_groups


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


def _data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(n, 5, generator=generator), torch.randint(0, 3, (n,), generator=generator)


def _trainer(net: nn.Module, optimizer="sgd") -> ember.Trainer:
    task = ember.Supervised(net, "sparse_categorical_crossentropy", from_logits=True)
    return ember.Trainer(task, optimizer, device="cpu")


def test_frozen_parameters_stay_out_of_the_optimizer():
    net = _net()
    net[0].requires_grad_(False)
    trainer = _trainer(net, "adam")
    trainer.fit(_data(), epochs=1, batch_size=16, verbose=0)
    held = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    assert [id(p) for p in held] == [id(net[2].weight), id(net[2].bias)]
    assert all(p not in trainer.optimizer.state for p in net[0].parameters())  # no Adam moments
    assert net[0].weight.grad is None and net[0].bias.grad is None


def test_a_fit_leaves_frozen_weights_bit_for_bit_and_trains_the_rest_as_torch_does():
    net, reference = _net(), _net()
    for model in (net, reference):
        model[0].requires_grad_(False)
    frozen_before = net[0].weight.clone()
    x, y = _data()
    _trainer(net).fit((x, y), epochs=2, batch_size=16, shuffle=False, verbose=0)
    # The reference: plain PyTorch SGD (Keras' lr 0.01) over the head alone, same batches.
    sgd = torch.optim.SGD(reference[2].parameters(), lr=0.01)
    for _ in range(2):
        for start in range(0, 64, 16):
            sgd.zero_grad()
            loss = nn.functional.cross_entropy(
                reference(x[start : start + 16]), y[start : start + 16]
            )
            loss.backward()
            sgd.step()
    assert torch.equal(net[0].weight, frozen_before)
    torch.testing.assert_close(net[2].weight, reference[2].weight, rtol=1e-6, atol=1e-7)
    assert not torch.equal(net[2].weight, _net()[2].weight)


def test_unfreezing_between_fits_builds_a_new_optimizer_over_the_weights_that_train():
    net = _net()
    net[0].requires_grad_(False)
    trainer = _trainer(net, "adam")
    trainer.fit(_data(), epochs=1, batch_size=16, verbose=0)
    first = trainer.optimizer
    trainer.fit(_data(), epochs=1, batch_size=16, verbose=0)
    assert trainer.optimizer is first  # nothing changed: the same optimizer continues
    before = net[0].weight.clone()
    net[0].requires_grad_(True)
    trainer.fit(_data(), epochs=1, batch_size=16, verbose=0)
    assert trainer.optimizer is not first
    held = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in net.parameters()}
    assert not torch.equal(net[0].weight, before)


def test_a_model_with_every_weight_frozen_is_refused_before_training():
    net = _net().requires_grad_(False)
    with pytest.raises(ember.ConfigError, match="every parameter of Sequential.*unfreeze"):
        _trainer(net).fit(_data(), epochs=1, verbose=0)


def test_without_lr_scales_the_optimizer_is_built_over_the_plain_parameter_list():
    net = _net()
    parameters = list(net.parameters())
    assert parameter_groups(parameters, 0.1) is parameters
    (step,) = build_steps(_trainer(net).task, "adam", 4, 1)
    assert (
        len(step.optimizer.param_groups) == 1 and "lr_scale" not in step.optimizer.param_groups[0]
    )
    assert isinstance(step.step, FusedStep)


def _scaled_net() -> nn.Sequential:
    net = _net()
    for parameter in net[0].parameters():
        parameter.lr_scale = 0.01
    return net


def test_lr_scales_become_param_groups_in_parameter_order():
    net = _scaled_net()
    (step,) = build_steps(_trainer(net).task, optimizers.Adam(0.5), 4, 1)
    groups = step.optimizer.param_groups
    assert [[id(p) for p in g["params"]] for g in groups] == [
        [id(net[0].weight), id(net[0].bias)],
        [id(net[2].weight), id(net[2].bias)],
    ]
    assert [(g["lr"], g["lr_scale"]) for g in groups] == [(0.005, 0.01), (0.5, 1.0)]
    assert all(g["fused"] for g in groups) and isinstance(step.step, FusedStep)


def test_grouped_training_matches_torch_adam_with_the_same_groups_bitwise():
    net, reference = _scaled_net(), _scaled_net()
    x, y = _data()
    _trainer(net, optimizers.Adam(0.01)).fit(
        (x, y), epochs=2, batch_size=16, shuffle=False, verbose=0
    )
    adam = torch.optim.Adam(
        [
            {"params": list(reference[0].parameters()), "lr": 0.01 * 0.01},
            {"params": list(reference[2].parameters()), "lr": 0.01},
        ],
        eps=1e-7,  # Keras' epsilon, as ember's Adam
        fused=True,
    )
    for _ in range(2):
        for start in range(0, 64, 16):
            adam.zero_grad()
            loss = nn.functional.cross_entropy(
                reference(x[start : start + 16]), y[start : start + 16]
            )
            loss.backward()
            adam.step()
    for ours, theirs in zip(net.parameters(), reference.parameters()):
        assert torch.equal(ours, theirs)


def test_a_bad_lr_scale_is_refused_naming_it():
    net = _net()
    net[0].weight.lr_scale = -1.0
    with pytest.raises(ember.ConfigError, match="received lr_scale=-1.0"):
        build_steps(_trainer(net).task, "sgd", 4, 1)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.OneCycle(0.1),
        schedules.CosineDecay(0.1, decay_steps=20),
        schedules.CosineDecay(0.0, decay_steps=15, warmup_steps=5, warmup_target=0.1),
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5),
        schedules.StepDecay(2, 0.5, initial_learning_rate=0.1),
    ],
    ids=["one_cycle", "cosine", "cosine_warmup_from_zero", "exponential", "step"],
)
def test_every_schedule_keeps_the_groups_1_to_100_ratio(schedule):
    # Built as the engine builds it: parameter_groups, then the schedule on that optimizer.
    start = schedule.initial_learning_rate
    sgd = torch.optim.SGD(parameter_groups(list(_scaled_net().parameters()), start), lr=start)
    scheduler = schedule.build(sgd, 20, 1)
    # The reference: the same schedule with one group and no scale (the head's own curve).
    curve = schedules.learning_rate_curve(schedule, 20)
    low, high = sgd.param_groups
    for index in range(20):
        assert high["lr"] == pytest.approx(curve[index], rel=1e-12, abs=1e-15)
        assert low["lr"] == pytest.approx(curve[index] / 100, rel=1e-9, abs=1e-15)
        if index < 19:
            sgd.step()
            scheduler.step()
