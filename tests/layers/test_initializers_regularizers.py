"""Initializers' statistics against their closed forms; regularizers' values; (de)serialization."""

import math

import pytest
import torch

from ember.errors import ConfigError
from ember.layers import initializers, regularizers


def filled(name, *shape):
    torch.manual_seed(0)
    tensor = torch.empty(*shape)
    initializers.get(name)(tensor)
    return tensor


@pytest.mark.parametrize(
    "name, shape, expected_std",
    [
        ("he_normal", (256, 1024), math.sqrt(2 / 1024)),  # Dense (out, in): fan_in = 1024
        ("he_normal", (64, 32, 3, 3), math.sqrt(2 / (32 * 9))),  # conv: fan_in = in * 3 * 3
        ("he_uniform", (256, 1024), math.sqrt(2 / 1024)),
        ("lecun_normal", (256, 1024), math.sqrt(1 / 1024)),
        ("lecun_uniform", (256, 1024), math.sqrt(1 / 1024)),
        ("glorot_normal", (256, 1024), math.sqrt(2 / (1024 + 256))),
        ("glorot_uniform", (64, 32, 3, 3), math.sqrt(2 / (32 * 9 + 64 * 9))),
        ("random_normal", (256, 1024), 0.05),
        ("random_uniform", (256, 1024), 0.1 / math.sqrt(12)),
    ],
)
def test_initializer_std_matches_closed_form(name, shape, expected_std):
    assert filled(name, *shape).std().item() == pytest.approx(expected_std, rel=0.05)


def test_bounded_initializers_stay_in_their_limits():
    fan_in, fan_out = 1024, 512
    glorot = filled("glorot_uniform", fan_out, fan_in)
    assert glorot.abs().max() <= math.sqrt(6 / (fan_in + fan_out))
    assert filled("random_uniform", 100, 100).abs().max() <= 0.05
    std = math.sqrt(2 / fan_in) / 0.87962566103423978  # truncated at two of these
    assert filled("he_normal", fan_out, fan_in).abs().max() <= 2 * std
    assert filled("truncated_normal", 100, 100).abs().max() <= 0.1


def test_constant_initializers_and_orthogonal():
    assert filled("zeros", 3, 4).eq(0).all() and filled("ones", 5).eq(1).all()
    constant = torch.empty(3)
    initializers.Constant(2.5)(constant)
    assert constant.eq(2.5).all()
    weight = filled("orthogonal", 16, 32)
    torch.testing.assert_close(weight @ weight.T, torch.eye(16), atol=1e-5, rtol=0)
    scaled = torch.empty(8, 8)
    initializers.Orthogonal(gain=2.0)(scaled)
    torch.testing.assert_close(scaled @ scaled.T, 4 * torch.eye(8), atol=1e-4, rtol=0)


def test_seeded_initializers_are_reproducible():
    a, b = torch.empty(10), torch.empty(10)
    initializers.HeNormal(seed=3)(a)
    initializers.HeNormal(seed=3)(b)
    assert torch.equal(a, b)


def test_initializer_get_accepts_names_instances_callables_and_dicts():
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    instance = initializers.RandomNormal(stddev=0.2)
    assert initializers.get(instance) is instance
    assert initializers.get(torch.nn.init.zeros_) is torch.nn.init.zeros_
    assert initializers.get(None) is None


@pytest.mark.parametrize(
    "initializer, serialized",
    [
        (initializers.HeNormal(), "he_normal"),
        (initializers.GlorotUniform(), "glorot_uniform"),
        (initializers.RandomUniform(), "random_uniform"),
        (
            initializers.RandomNormal(mean=0.1, stddev=0.2),
            {"class_name": "RandomNormal", "config": {"mean": 0.1, "stddev": 0.2, "seed": None}},
        ),
        (
            initializers.Orthogonal(gain=2.0),
            {"class_name": "Orthogonal", "config": {"gain": 2.0, "seed": None}},
        ),
        (initializers.Constant(3), {"class_name": "Constant", "config": {"value": 3}}),
        (initializers.HeNormal(seed=1), {"class_name": "HeNormal", "config": {"seed": 1}}),
    ],
)
def test_initializer_serialize_round_trip(initializer, serialized):
    assert initializers.serialize(initializer) == serialized
    rebuilt = initializers.get(serialized)
    assert type(rebuilt) is type(initializer)
    assert rebuilt.get_config() == initializer.get_config()


def test_unknown_or_bad_initializers_raise_config_error_listing_choices():
    with pytest.raises(ConfigError, match="Did you mean 'he_normal'.*glorot_uniform"):
        initializers.get("he_norml")
    with pytest.raises(ConfigError, match="keys 'class_name' and 'config'"):
        initializers.get({"name": "Constant"})
    with pytest.raises(ConfigError, match="received 3"):
        initializers.get(3)
    with pytest.raises(ConfigError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ConfigError, match="only names and Initializer instances"):
        initializers.serialize(torch.nn.init.zeros_)


def test_regularizer_values_are_keras_closed_forms():
    weight = torch.tensor([[1.0, -2.0], [3.0, 0.5]])
    torch.testing.assert_close(regularizers.get("l2")(weight), 0.01 * weight.square().sum())
    torch.testing.assert_close(regularizers.get("l1")(weight), 0.01 * weight.abs().sum())
    torch.testing.assert_close(regularizers.L2(0.5)(weight), torch.tensor(0.5 * 14.25))
    both = regularizers.L1L2(l1=0.1, l2=0.2)(weight)
    torch.testing.assert_close(both, 0.1 * weight.abs().sum() + 0.2 * weight.square().sum())
    assert regularizers.L1L2()(weight).item() == 0.0
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}


@pytest.mark.parametrize(
    "regularizer", [regularizers.L1(0.3), regularizers.L2(1e-4), regularizers.L1L2(0.0, 0.5)]
)
def test_regularizer_serialize_round_trip(regularizer):
    serialized = regularizers.serialize(regularizer)
    assert serialized["class_name"] == type(regularizer).__name__
    rebuilt = regularizers.get(serialized)
    assert type(rebuilt) is type(regularizer) and rebuilt.get_config() == regularizer.get_config()


def test_bad_regularizers_raise_config_error():
    with pytest.raises(ConfigError, match="Known regularizers: l1, l1_l2, l2"):
        regularizers.get("l3")
    with pytest.raises(ConfigError, match="expected a non-negative number, received l2=-1"):
        regularizers.L2(-1)
    with pytest.raises(ConfigError, match="received 0.5"):
        regularizers.get(0.5)
