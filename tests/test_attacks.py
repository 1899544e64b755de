"""ember.attacks: FGSM and PGD stay in the ε-ball and the pixel range, PGD is at least as strong as
FGSM, the model is left as it was, and the attack matches torchattacks' on the same batch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ember import attacks, layers, models
from ember.errors import ConfigError


def mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(36, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)
    )


def batch(count: int = 64, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(count, 6, 6, 1, generator=generator)
    x[:8] = x[:8].round()  # pixels at 0 and 1: the range clamps must hold there too
    return x, torch.randint(0, 4, (count,), generator=generator)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_never_leaves_the_ball_or_the_pixel_range(norm):
    model, (x, y) = mlp(), batch()
    for epsilon in (0.0, 0.05, 0.3):
        adversarial = attacks.pgd(model, x, y, epsilon, steps=10, norm=norm, step_size=0.1)
        delta = (adversarial - x).flatten(1)
        size = delta.abs().max(1).values if norm == "linf" else delta.norm(dim=1)
        assert (size <= epsilon + 1e-5).all()
        assert adversarial.min() >= 0 and adversarial.max() <= 1


def test_fgsm_is_the_closed_form_step_and_pgd_is_never_weaker():
    model, (x, y) = mlp(), batch()
    epsilon = 0.1
    x_grad = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(F.cross_entropy(model(x_grad), y), x_grad)
    expected = (x + epsilon * gradient.sign()).clamp(0, 1)
    received = attacks.fgsm(model, x, y, epsilon)
    torch.testing.assert_close(received, expected)
    with torch.no_grad():
        fgsm_loss = F.cross_entropy(model(received), y)
        for seed in range(3):
            generator = torch.Generator().manual_seed(seed)
            stronger = attacks.pgd(model, x, y, epsilon, steps=20, generator=generator)
            assert F.cross_entropy(model(stronger), y) >= fgsm_loss


def test_the_model_is_given_back_as_it_was():
    model, (x, y) = mlp(), batch()
    model.train()
    F.cross_entropy(model(x), y).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    attacks.pgd(model, x, y, 0.1, steps=3)
    attacks.robust_accuracy(model, x, y, [0, 0.1], steps=2)
    assert model.training
    for parameter, grad in zip(model.parameters(), grads):
        torch.testing.assert_close(parameter.grad, grad)


def test_a_part_held_in_eval_mode_stays_in_eval_mode():
    model, (x, y) = mlp(), batch()
    model.train()
    model[1].eval()  # e.g. a frozen backbone
    attacks.pgd(model, x, y, 0.1, steps=2)
    attacks.robust_accuracy(model, x, y, [0.1], steps=1)
    assert model.training and model[3].training and not model[1].training


def test_a_wrapped_module_is_attacked_through_its_own_output():
    module, (x, y) = mlp(), batch()
    wrapped = models.Model(module)
    assert attacks.logits_of(wrapped) is wrapped  # Model.logits says None: nothing to skip
    torch.testing.assert_close(
        attacks.pgd(wrapped, x, y, 0.1, steps=3, random_start=False),
        attacks.pgd(module, x, y, 0.1, steps=3, random_start=False),
    )


def test_an_ember_softmax_model_is_attacked_through_its_logits():
    torch.manual_seed(0)
    net = models.Sequential(
        [layers.Flatten(input_shape=(6, 6, 1)), layers.Dense(4, activation="softmax")]
    )
    x, y = batch()
    net(x)
    with torch.no_grad():  # saturate the softmax: float32 probabilities are then exactly 0 or 1
        net.layers[1].weight.mul_(200)
    adversarial = attacks.pgd(net, x, y, 0.1, steps=5)
    assert (adversarial - x).abs().max() > 0.05  # the logits' gradient did not vanish


def test_pgd_matches_torchattacks_on_the_same_batch():
    torchattacks = pytest.importorskip("torchattacks")
    model, (x, y) = mlp(), batch(400)
    model.eval()
    reference = torchattacks.PGD(model, eps=0.1, alpha=0.02, steps=10, random_start=False)
    theirs = reference(x, y)
    ours = attacks.pgd(model, x, y, 0.1, steps=10, step_size=0.02, random_start=False)
    with torch.no_grad():
        accuracy_theirs = (model(theirs).argmax(1) == y).float().mean()
        accuracy_ours = (model(ours).argmax(1) == y).float().mean()
    assert abs(accuracy_theirs - accuracy_ours) <= 0.01
    assert (theirs - ours).abs().max() < 1e-4


def test_robust_accuracy_falls_with_the_radius_and_starts_at_the_clean_accuracy():
    model, (x, y) = mlp(), batch(200)
    curve = attacks.robust_accuracy(model, x, y, [0, 0.05, 0.2], steps=10)
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    assert curve[0] == pytest.approx(clean)
    assert curve[0] >= curve[0.05] >= curve[0.2]


@pytest.mark.parametrize("epsilon", [-0.1, 1.5, float("nan"), "0.1"])
def test_an_epsilon_outside_the_pixel_range_is_refused(epsilon):
    model, (x, y) = mlp(), batch(4)
    with pytest.raises(ConfigError, match=r"epsilon must be a number in \[0, 1\]"):
        attacks.pgd(model, x, y, epsilon)


def test_unknown_norms_and_attacks_are_refused():
    model, (x, y) = mlp(), batch(4)
    with pytest.raises(ConfigError, match="norm"):
        attacks.pgd(model, x, y, 0.1, norm="l1")
    with pytest.raises(ConfigError, match="attack"):
        attacks.robust_accuracy(model, x, y, [0.1], attack="cw")
