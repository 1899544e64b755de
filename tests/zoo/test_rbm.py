"""BernoulliRBM against exact enumeration: energy, free energy, conditionals, Gibbs sampling."""

import itertools
import math

import pytest
import torch

import ember
from ember.zoo.rbm import BernoulliRBM

# A tiny RBM with given parameters (3 visible, 2 hidden), small enough to enumerate exactly.
WEIGHT = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]  # (hidden, visible)
VISIBLE_BIAS = [0.1, -0.2, 0.3]
HIDDEN_BIAS = [-0.5, 0.4]


def tiny_rbm():
    rbm = BernoulliRBM(3, 2).double()
    with torch.no_grad():
        rbm.weight.copy_(torch.tensor(WEIGHT, dtype=torch.float64))
        rbm.visible_bias.copy_(torch.tensor(VISIBLE_BIAS, dtype=torch.float64))
        rbm.hidden_bias.copy_(torch.tensor(HIDDEN_BIAS, dtype=torch.float64))
    return rbm


def states(n):
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def hand_energy(v, h):
    interaction = sum(h[j] * WEIGHT[j][i] * v[i] for j in range(2) for i in range(3))
    return (
        -sum(b * x for b, x in zip(VISIBLE_BIAS, v))
        - sum(c * y for c, y in zip(HIDDEN_BIAS, h))
        - interaction
    )


def exact_marginal(rbm):
    """p(v) over the 8 visible states, from the free energy."""
    return torch.softmax(-rbm.free_energy(states(3)).detach(), 0)


def test_energy_matches_the_hand_formula():
    rbm = tiny_rbm()
    for v in states(3):
        for h in states(2):
            got = rbm.energy(v[None], h[None]).item()
            assert got == pytest.approx(hand_energy(v.tolist(), h.tolist()), abs=1e-12)


def test_free_energy_matches_the_hand_formula_and_brute_force_over_hidden_states():
    rbm = tiny_rbm()
    got = rbm.free_energy(states(3)).detach()
    for index, v in enumerate(states(3).tolist()):
        # Closed form: F(v) = -b·v - Σ_j log(1 + exp(c_j + W_j·v)).
        hand = -sum(b * x for b, x in zip(VISIBLE_BIAS, v)) - sum(
            math.log1p(math.exp(HIDDEN_BIAS[j] + sum(WEIGHT[j][i] * v[i] for i in range(3))))
            for j in range(2)
        )
        # Definition: F(v) = -log Σ_h exp(-E(v, h)), over the 4 hidden states.
        brute = -math.log(sum(math.exp(-hand_energy(v, h)) for h in states(2).tolist()))
        assert got[index].item() == pytest.approx(hand, abs=1e-12)
        assert got[index].item() == pytest.approx(brute, abs=1e-12)


def test_conditionals_match_the_enumerated_joint_distribution():
    rbm = tiny_rbm()
    v_all, h_all = states(3), states(2)
    # joint[a, b] ∝ exp(-E(v_a, h_b)), over all 8 x 4 states.
    energies = torch.stack([rbm.energy(v_all, h.expand(8, 2)) for h in h_all], 1).detach()
    joint = torch.softmax(-energies.flatten(), 0).view(8, 4)
    # p(h_j = 1 | v) = Σ_{h: h_j = 1} p(v, h) / p(v)
    expected_hidden = (joint / joint.sum(1, keepdim=True)) @ h_all
    torch.testing.assert_close(rbm.hidden_probabilities(v_all).detach(), expected_hidden)
    expected_visible = (joint / joint.sum(0, keepdim=True)).T @ v_all
    torch.testing.assert_close(rbm.visible_probabilities(h_all).detach(), expected_visible)
    torch.testing.assert_close(joint.sum(1), exact_marginal(rbm))


def test_one_gibbs_step_leaves_the_exact_marginal_unchanged():
    rbm = tiny_rbm()
    v_all, h_all = states(3), states(2)
    ph = rbm.hidden_probabilities(v_all).detach()  # (8, 2)
    pv = rbm.visible_probabilities(h_all).detach()  # (4, 3)
    # Bernoulli products: p(h | v) as an (8, 4) matrix, p(v' | h) as a (4, 8) matrix.
    p_h_given_v = (ph[:, None] ** h_all * (1 - ph[:, None]) ** (1 - h_all)).prod(-1)
    p_v_given_h = (pv[:, None] ** v_all * (1 - pv[:, None]) ** (1 - v_all)).prod(-1)
    transition = p_h_given_v @ p_v_given_h  # (8, 8), rows sum to 1
    torch.testing.assert_close(transition.sum(1), torch.ones(8, dtype=torch.float64))
    marginal = exact_marginal(rbm)
    torch.testing.assert_close(marginal @ transition, marginal)


def test_gibbs_chains_sample_the_exact_marginal():
    rbm = tiny_rbm()
    generator = torch.Generator().manual_seed(0)
    samples = rbm.gibbs(torch.zeros(20000, 3, dtype=torch.float64), 30, generator)
    index = (samples * torch.tensor([4.0, 2.0, 1.0], dtype=torch.float64)).sum(1).long()
    frequencies = torch.bincount(index, minlength=8).double() / len(samples)
    total_variation = 0.5 * (frequencies - exact_marginal(rbm)).abs().sum()
    assert total_variation < 0.02


def test_gibbs_with_a_seeded_generator_repeats_and_samples_are_binary():
    rbm = BernoulliRBM(6, 4, weight_scale=1.0)
    v = torch.rand(10, 6)
    first = rbm.gibbs(v, 3, torch.Generator().manual_seed(5))
    again = rbm.gibbs(v, 3, torch.Generator().manual_seed(5))
    assert torch.equal(first, again)
    assert set(first.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(rbm.gibbs(v, 0), v)


def test_images_are_flattened_and_forward_gives_hidden_probabilities():
    ember.set_seed(0)
    rbm = BernoulliRBM(12, 5)
    images = torch.rand(7, 2, 3, 2)  # (N, H, W, C)
    features = rbm(images)
    assert features.shape == (7, 5)
    torch.testing.assert_close(features, rbm.hidden_probabilities(images.reshape(7, 12)))
    assert rbm.sample_hidden(images).shape == (7, 5)
    assert rbm.sample_visible(features).shape == (7, 12)
    assert rbm.free_energy(images).shape == (7,)
    assert rbm.weight.shape == (5, 12)  # Dense's (units, in_features) layout


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((0, 4), "visible=0"),
        ((4, 0), "hidden=0"),
        ((-3, 4), "visible=-3"),
        ((4, 2.5), "hidden=2.5"),
        ((True, 4), "visible=True"),
    ],
)
def test_bad_sizes_are_config_errors(arguments, message):
    with pytest.raises(ember.errors.ConfigError, match=message):
        BernoulliRBM(*arguments)


def test_negative_gibbs_steps_are_a_config_error():
    with pytest.raises(ember.errors.ConfigError, match="steps=-1"):
        BernoulliRBM(3, 2).gibbs(torch.zeros(1, 3), -1)
