"""A search space is read into Optuna's own distributions, and every bad entry is refused, before
any trial, with a message naming the key and the fix."""

from __future__ import annotations

import sys

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

import ember
from ember import recipes
from ember.errors import ConfigError
from ember.tune.space import describe, read_space

MLP = recipes.get("fashion-mlp")


def space_of(entries, recipe=MLP):
    return read_space(entries, recipe, recipe.config())


def test_each_shape_becomes_the_optuna_distribution_it_describes():
    space = space_of(
        {
            "learning_rate": {
                "low": "1e-4",
                "high": 1.0e-2,
                "log": True,
            },  # YAML reads 1e-4 as text
            "hidden_units": {"low": 16, "high": 256},
            "dropout": {"low": 0, "high": 0.5},  # a float field: the integer 0 is 0.0
            "batch_size": {"choices": [32, 64]},
            "train_samples": [600, None],
        }
    )
    assert space.distributions == {
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
        "hidden_units": IntDistribution(16, 256),
        "dropout": FloatDistribution(0.0, 0.5),
        "batch_size": CategoricalDistribution([32, 64]),
        "train_samples": CategoricalDistribution([600, None]),
    }
    assert describe(space.distributions["hidden_units"]) == "integers from 16 to 256"


def test_suggested_values_become_the_trial_config_and_follow_the_seeded_sampler():
    space = space_of({"dropout": {"low": 0.0, "high": 0.5}, "hidden_units": [8, 16, 32]})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    params = space.suggest(study.ask())
    # the reference: Optuna's own sampler asked directly for the same distributions
    reference = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    assert params == reference.ask(space.distributions).params
    config = space.config(params)
    assert (config.dropout, config.hidden_units) == (params["dropout"], params["hidden_units"])
    assert config.epochs == MLP.config().epochs  # everything else is the base config


def test_a_tuple_field_travels_through_optuna_as_text_and_comes_back_a_tuple():
    cnn = recipes.get("fashion-cnn")
    space = space_of({"filters": [[16, 32, 32], [32, 64, 64]]}, cnn)
    assert space.distributions["filters"].choices == ("16,32,32", "32,64,64")
    assert space.config({"filters": "16,32,32"}).filters == (16, 32, 32)


def test_the_grid_is_every_list_and_a_range_is_refused_for_grid_search():
    space = space_of({"dropout": [0.0, 0.2], "hidden_units": {"choices": [8, 16, 32]}})
    assert space.grid() == {"dropout": [0.0, 0.2], "hidden_units": [8, 16, 32]}
    ranged = space_of({"dropout": [0.0, 0.2], "hidden_units": {"low": 8, "high": 32}})
    with pytest.raises(
        ConfigError,
        match=r"grid search needs every dimension as a list.*"
        r"hidden_units: \{low: 8, high: 32\}.*hidden_units: \[8, 32\]",
    ):
        ranged.grid()


def test_an_unknown_key_lists_the_valid_keys_with_the_closest_first():
    with pytest.raises(ConfigError) as error:
        space_of({"hiden_units": [8, 16]})
    message = str(error.value)
    assert "unknown config key 'hiden_units' for recipe fashion-mlp" in message
    assert "Did you mean 'hidden_units'?" in message
    assert "Valid keys: batch_size, dataset, device, dropout" in message


@pytest.mark.parametrize(
    ("entries", "pattern"),
    [
        (
            {"dropout": {"low": 0.4, "high": 0.1}},
            r"dropout's range is empty \(low 0.4 >= high 0.1\)",
        ),
        ({"hidden_units": {"low": 64, "high": 64}}, r"range is empty \(low 64 >= high 64\)"),
        ({"dropout": {"choices": []}}, r"dropout has no values to try \(an empty list\)"),
        ({"dropout": []}, r"dropout has no values to try"),
        ({"dropout": [0.1, 0.1]}, r"dropout lists 0.1 more than once"),
        ({"dropout": 0.3}, r"needs \{low.*received 0.3.*--set dropout=0.3"),
        ({"dropout": {"low": 0.1, "hi": 0.3}}, r"received the keys \['hi', 'low'\]"),
        ({"dropout": {"choices": [0.1], "low": 0}}, r"takes one list and nothing else"),
        ({"dropout": {"low": 0.0, "high": 0.5, "log": True}}, r"log-scale range needs low > 0"),
        ({"learning_rate": {"low": 0.1, "high": 0.2, "log": "yes"}}, r"log must be true or false"),
        ({"dataset": {"low": "a", "high": "b"}}, r"takes str values, which have no range"),
        ({}, r"the search space is empty"),
    ],
)
def test_a_malformed_entry_is_refused(entries, pattern):
    with pytest.raises(ConfigError, match=pattern):
        space_of(entries)


@pytest.mark.parametrize(
    ("entries", "pattern"),
    [
        # the recipe's own range checks (field_checks), reached before any trial
        (
            {"dropout": {"low": 0.0, "high": 1.0}},
            r"dropout's high 1.0 is refused by recipe "
            r"fashion-mlp: expected a rate in \[0, 1\), received dropout=1.0",
        ),
        ({"hidden_units": [0, 8]}, r"hidden_units's value 0 is refused.*positive integer"),
        ({"learning_rate": {"low": -1.0, "high": 0.1}}, r"learning_rate's low -1.0 is refused"),
        # ... and its types
        (
            {"hidden_units": {"low": 8.5, "high": 32}},
            r"field 'hidden_units' of recipe "
            r"fashion-mlp expects an integer, received 8.5",
        ),
        ({"feature_maps": [["pca"], ["umap"]]}, r"expected feature_maps from pca, tsne"),
    ],
)
def test_a_value_the_recipe_refuses_is_refused_before_any_trial(entries, pattern):
    with pytest.raises(ConfigError, match=pattern):
        space_of(entries)


def test_a_space_file_is_read_and_its_file_errors_are_ember_errors(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}\ndropout: [0.1, 0.2]\n")
    space = read_space(path, MLP, MLP.config())
    assert space.distributions["learning_rate"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert space.source == str(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_space(tmp_path / "missing.yaml", MLP, MLP.config())
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ConfigError, match="empty.yaml: the search space is empty"):
        read_space(tmp_path / "empty.yaml", MLP, MLP.config())
    (tmp_path / "bad.yaml").write_text("dropout: [0.1\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        read_space(tmp_path / "bad.yaml", MLP, MLP.config())


def test_ember_tune_stays_the_function_when_its_package_is_imported():
    # importing ember.tune.space (above) makes Python bind the package to the name ember.tune
    assert ember.tune is sys.modules["ember.tune.study"].tune
    assert ember.tune.__doc__.startswith("Search ``space``")
