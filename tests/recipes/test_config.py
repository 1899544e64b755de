import dataclasses
import importlib.util
import re
import sys
import textwrap
import typing
from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest
import yaml

from ember import checks, recipes
from ember.errors import ConfigError
from ember.recipes.config import (
    RecipeConfig,
    all_field_checks,
    apply_overrides,
    check_fields,
    describe_fields,
    from_mapping,
)
from ember.recipes.config_fields import field_comments
from ember.recipes.config_yaml import load_yaml, to_yaml


@dataclass
class MlpConfig(RecipeConfig):
    hidden_units: int = 128  # width of the hidden Dense layer
    dropout: float = 0.2  # fraction of hidden units dropped while training
    optimizer: Literal["adam", "sgd"] = "adam"  # optimizer name
    widths: tuple[int, ...] = (32, 64)  # channels per stage
    train_samples: int | None = None  # use only this many training images (None = all)
    augment: bool = False  # random flips and crops
    kernel: tuple[int, int] = (3, 3)  # convolution kernel height and width
    learning_rates: list[float] = field(default_factory=lambda: [0.1, 0.01])  # one per stage
    run_name: str = "mlp"  # name shown in logs
    label_smoothing: Optional[float] = None  # noqa: UP045 (typing.Optional must work too)


@dataclass
class WideConfig(MlpConfig):
    hidden_units: int = 1024  # width of the (wide) hidden layer
    schedule: tuple[float, ...] = (  # learning rate per epoch
        0.1,  # warm-up
        0.01,
    )  # decayed learning rates


# --- apply_overrides: one test per supported type ---------------------------------------------


def test_override_returns_new_instance_and_keeps_original():
    config = MlpConfig()
    changed = apply_overrides(config, ["hidden_units=256", "dropout=0.3"])
    assert (changed.hidden_units, changed.dropout) == (256, 0.3)
    assert (config.hidden_units, config.dropout) == (128, 0.2)
    assert type(changed) is MlpConfig


def test_later_override_of_same_key_wins():
    assert apply_overrides(MlpConfig(), ["epochs=2", "epochs=7"]).epochs == 7


@pytest.mark.parametrize(
    ("text", "expected"), [("3", 3), (" 42 ", 42), ("-1", -1), ("1_000", 1000), ("2.0", 2)]
)
def test_int_override_accepts_integers(text, expected):
    value = apply_overrides(MlpConfig(), [f"hidden_units={text}"]).hidden_units
    assert value == expected and type(value) is int


@pytest.mark.parametrize("text", ["true", "2.5", "abc", "[1, 2]", "none"])
def test_int_override_rejects_bools_fractions_and_text(text):
    with pytest.raises(
        ConfigError, match=re.escape(f"field 'hidden_units' expects an integer, received '{text}'")
    ):
        apply_overrides(MlpConfig(), [f"hidden_units={text}"])


@pytest.mark.parametrize(("text", "expected"), [("0.3", 0.3), ("1", 1.0), ("1e-3", 0.001)])
def test_float_override_accepts_floats_and_ints(text, expected):
    value = apply_overrides(MlpConfig(), [f"dropout={text}"]).dropout
    assert value == expected and type(value) is float


def test_float_override_rejects_text_with_the_fix():
    with pytest.raises(
        ConfigError,
        match=r"--set dropout=abc: field 'dropout' expects a float, received 'abc'\. "
        r".*e\.g\. --set dropout=0\.2",
    ):
        apply_overrides(MlpConfig(), ["dropout=abc"])


def test_float_override_rejects_bools():
    with pytest.raises(ConfigError, match="expects a float, received 'false'"):
        apply_overrides(MlpConfig(), ["dropout=false"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("yes", True), ("1", True), ("false", False), ("no", False), ("0", False)],
)
def test_bool_override_accepts_yaml_spellings(text, expected):
    assert apply_overrides(MlpConfig(augment=not expected), [f"augment={text}"]).augment is expected


@pytest.mark.parametrize("text", ["2", "maybe", "0.5"])
def test_bool_override_rejects_other_values(text):
    with pytest.raises(ConfigError, match=r"field 'augment' expects a boolean \(true or false\)"):
        apply_overrides(MlpConfig(), [f"augment={text}"])


@pytest.mark.parametrize("text", ["cuda:1", "2024", "on", "1:30", "null"])
def test_str_override_keeps_the_text_as_typed(text):
    # YAML alone would read "2024" as an int, "on" as True, "1:30" as 90 and "null" as None.
    assert apply_overrides(MlpConfig(), [f"run_name={text}"]).run_name == text


def test_str_override_strips_yaml_quotes():
    assert apply_overrides(MlpConfig(), ["run_name='a b'"]).run_name == "a b"


def test_literal_override_accepts_a_choice():
    assert apply_overrides(MlpConfig(), ["optimizer=sgd"]).optimizer == "sgd"


def test_literal_override_lists_the_choices():
    with pytest.raises(
        ConfigError, match=r"field 'optimizer' expects one of 'adam', 'sgd', received 'rmsprop'"
    ):
        apply_overrides(MlpConfig(), ["optimizer=rmsprop"])


@pytest.mark.parametrize(("text", "expected"), [("none", None), ("null", None), ("None", None)])
def test_optional_override_accepts_none(text, expected):
    assert (
        apply_overrides(MlpConfig(train_samples=100), [f"train_samples={text}"]).train_samples
        is None
    )


def test_optional_override_accepts_the_inner_type():
    assert apply_overrides(MlpConfig(), ["train_samples=500"]).train_samples == 500
    assert apply_overrides(MlpConfig(), ["label_smoothing=0.1"]).label_smoothing == 0.1


def test_optional_override_rejects_other_values():
    with pytest.raises(ConfigError, match="expects an integer or none, received 'all'"):
        apply_overrides(MlpConfig(), ["train_samples=all"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("[16, 32, 64]", (16, 32, 64)), ("16,32,64", (16, 32, 64)), ("8", (8,)), ("[]", ())],
)
def test_variadic_tuple_override_accepts_lists_and_commas(text, expected):
    assert apply_overrides(MlpConfig(), [f"widths={text}"]).widths == expected


def test_variadic_tuple_override_checks_each_item():
    with pytest.raises(
        ConfigError, match=r"field 'widths' expects a list of integers.*received '32,x'"
    ):
        apply_overrides(MlpConfig(), ["widths=32,x"])


def test_list_of_floats_override_gives_a_list_of_floats():
    rates = apply_overrides(MlpConfig(), ["learning_rates=1,0.5,1e-2"]).learning_rates
    assert rates == [1.0, 0.5, 0.01] and all(type(rate) is float for rate in rates)


def test_fixed_tuple_override_accepts_the_right_length():
    assert apply_overrides(MlpConfig(), ["kernel=5,5"]).kernel == (5, 5)
    assert apply_overrides(MlpConfig(), ["kernel=[1, 7]"]).kernel == (1, 7)


@pytest.mark.parametrize("text", ["5", "1,2,3", "[a, b]"])
def test_fixed_tuple_override_rejects_other_lengths_and_types(text):
    with pytest.raises(
        ConfigError, match=r"field 'kernel' expects a list of 2 values \(an integer, an integer\)"
    ):
        apply_overrides(MlpConfig(), [f"kernel={text}"])


# --- apply_overrides: errors ------------------------------------------------------------------


def test_unknown_key_suggests_the_closest_and_lists_valid_keys():
    with pytest.raises(
        ConfigError,
        match=r"unknown config key 'hiden_units' for recipe fashion-mlp\. "
        r"Did you mean 'hidden_units'\? Valid keys: augment, batch_size, device, dropout, ",
    ):
        apply_overrides(MlpConfig(), ["hiden_units=256"], recipe="fashion-mlp")


def test_unknown_key_without_close_match_still_lists_valid_keys():
    with pytest.raises(ConfigError) as caught:
        apply_overrides(MlpConfig(), ["zzz=1"])
    message = str(caught.value)
    assert "unknown config key 'zzz' for MlpConfig." in message
    assert "Did you mean" not in message
    assert "Valid keys: augment, batch_size," in message


@pytest.mark.parametrize("pair", ["hidden_units", "=3", ""])
def test_pair_without_equals_says_the_form_expected(pair):
    with pytest.raises(ConfigError, match=r"--set expects key=value, received .*--set key=value"):
        apply_overrides(MlpConfig(), [pair])


def test_pair_without_equals_for_a_known_key_shows_its_current_value():
    with pytest.raises(ConfigError, match=r"e\.g\. --set widths=32,64"):
        apply_overrides(MlpConfig(), ["widths"])


def test_bad_value_message_names_the_recipe():
    with pytest.raises(
        ConfigError, match="field 'epochs' of recipe fashion-mlp expects an integer"
    ):
        apply_overrides(MlpConfig(), ["epochs=x"], recipe="fashion-mlp")


def test_config_errors_are_value_errors():
    with pytest.raises(ValueError):
        apply_overrides(MlpConfig(), ["epochs=x"])


# --- from_mapping -----------------------------------------------------------------------------


def test_from_mapping_converts_and_keeps_defaults():
    config = from_mapping(MlpConfig, {"widths": [8, 16], "dropout": 1, "epochs": "3"}, "run.yaml")
    assert config == MlpConfig(widths=(8, 16), dropout=1.0, epochs=3)
    assert type(config.dropout) is float


def test_from_mapping_bad_value_names_the_source_and_the_fix():
    with pytest.raises(
        ConfigError,
        match=r"run\.yaml: field 'dropout' expects a float, received 'abc'\. "
        r"Fix it in run\.yaml, e\.g\. dropout: 0\.2\.",
    ):
        from_mapping(MlpConfig, {"dropout": "abc"}, "run.yaml")


def test_from_mapping_str_field_rejects_numbers():
    with pytest.raises(ConfigError, match="field 'run_name' expects a string, received 2024"):
        from_mapping(MlpConfig, {"run_name": 2024}, "run.yaml")


def test_from_mapping_unknown_key():
    with pytest.raises(
        ConfigError,
        match=r"unknown config key 'optimiser' for recipe mlp\. Did you mean 'optimizer'\?",
    ):
        from_mapping(MlpConfig, {"optimiser": "sgd"}, "run.yaml", recipe="mlp")


def test_from_mapping_rejects_a_non_mapping():
    with pytest.raises(
        ConfigError, match="expected a mapping of config keys to values, received list"
    ):
        from_mapping(MlpConfig, [1, 2], "run.yaml")


def test_from_mapping_reports_missing_required_fields():
    @dataclass
    class Required:
        units: int  # no default

    with pytest.raises(ConfigError, match="missing required config key.*units"):
        from_mapping(Required, {}, "run.yaml")


# --- YAML files -------------------------------------------------------------------------------


def test_yaml_round_trip_gives_an_equal_config(tmp_path):
    config = MlpConfig(
        seed=3,
        device="cuda:1",
        widths=(8, 16, 32),
        train_samples=1000,
        label_smoothing=1e-10,
        augment=True,
        run_name="yes",  # a string YAML would read as a bool unless quoted
        learning_rates=[0.5],
    )
    path = tmp_path / "run.yaml"
    path.write_text(to_yaml(config, "fashion-mlp", {"ember": "0.1.0", "torch": "2.4"}))
    recipe, fields = load_yaml(path)
    assert recipe == "fashion-mlp"
    assert "versions" not in fields
    assert from_mapping(MlpConfig, fields) == config


def test_to_yaml_writes_header_comments_lists_and_versions():
    text = to_yaml(MlpConfig(), "fashion-mlp", {"torch": "2.4"})
    lines = text.splitlines()
    assert lines[0] == "# ember run config — run it again with: ember train <this file>"
    assert lines[1] == "recipe: fashion-mlp"
    index = lines.index("hidden_units: 128")
    assert lines[index - 1] == "# width of the hidden Dense layer"
    assert "widths: [32, 64]" in lines
    assert "train_samples: null" in lines
    assert lines[-2:] == ["versions:", "  torch: '2.4'"]
    assert yaml.safe_load(text)["versions"] == {"torch": "2.4"}


def test_load_yaml_returns_recipe_and_fields(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("recipe: fashion-mlp\nepochs: 3\nversions:\n  torch: '2.4'\n")
    assert load_yaml(path) == ("fashion-mlp", {"epochs": 3})
    path.write_text("epochs: 3\n")
    assert load_yaml(str(path)) == (None, {"epochs": 3})


def test_load_yaml_empty_file_is_an_empty_config(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# everything commented out\n")
    assert load_yaml(path) == (None, {})


def test_load_yaml_missing_file(tmp_path):
    with pytest.raises(
        ConfigError, match=r"config file '.*nope\.yaml' does not exist\. Check the path"
    ):
        load_yaml(tmp_path / "nope.yaml")


def test_load_yaml_directory(tmp_path):
    with pytest.raises(ConfigError, match="is a directory, expected a YAML file"):
        load_yaml(tmp_path)


def test_load_yaml_not_utf8(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"epochs: \xff\xfe\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_yaml(path)


def test_load_yaml_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("epochs: 3\nwidths: [1, 2\n")
    with pytest.raises(
        ConfigError, match=r"bad\.yaml' is not valid YAML: .* at line \d+, column \d+"
    ):
        load_yaml(path)


@pytest.mark.parametrize(("text", "kind"), [("- 1\n- 2\n", "list"), ("3\n", "int")])
def test_load_yaml_top_level_must_be_a_mapping(tmp_path, text, kind):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"must hold a mapping .* received {kind}"):
        load_yaml(path)


def test_load_yaml_recipe_must_be_a_string(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("recipe: 3\n")
    with pytest.raises(ConfigError, match="'recipe' must be a recipe name"):
        load_yaml(path)


# --- field comments ---------------------------------------------------------------------------


def test_field_comments_include_base_class_fields():
    comments = field_comments(MlpConfig)
    assert comments["dropout"] == "fraction of hidden units dropped while training"
    assert (
        comments["seed"]
        == "seeds every random number generator; same seed, same machine -> same run"
    )
    assert comments["device"] == '"auto", "cpu", "cuda", "cuda:1", ...'
    assert list(comments)[:4] == ["seed", "device", "epochs", "batch_size"]


def test_field_comments_subclass_redefinition_wins_and_multiline_uses_trailing_comment():
    comments = field_comments(WideConfig)
    assert comments["hidden_units"] == "width of the (wide) hidden layer"
    assert comments["schedule"] == "decayed learning rates"
    assert comments["dropout"] == "fraction of hidden units dropped while training"


def test_field_comments_without_source_are_empty():
    made = dataclasses.make_dataclass("Made", [("units", int, dataclasses.field(default=1))])
    assert field_comments(made) == {"units": ""}


def test_field_comments_ignore_nested_classes_and_methods():
    @dataclass
    class Outer:
        units: int = 1  # outer units

        class Inner:
            units: int = 2  # inner units

        def method(self) -> int:
            local: int = 3  # a local variable
            return local

    assert field_comments(Outer) == {"units": "outer units"}


# --- string annotations -----------------------------------------------------------------------


@pytest.fixture
def future_recipe(tmp_path, monkeypatch):
    source = textwrap.dedent(
        """
        from __future__ import annotations

        from dataclasses import dataclass
        from typing import Literal

        from ember.recipes.config import RecipeConfig


        @dataclass
        class Config(RecipeConfig):
            optimizer: Literal["adam", "sgd"] = "adam"  # optimizer name
            widths: tuple[int, ...] = (32, 64)  # channels per stage
            train_samples: int | None = None  # use only this many images (None = all)
        """
    )
    path = tmp_path / "future_recipe.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("future_recipe", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "future_recipe", module)
    spec.loader.exec_module(module)
    return module.Config


def test_string_annotations_are_resolved(future_recipe):
    assert isinstance(dataclasses.fields(future_recipe)[-1].type, str)
    config = apply_overrides(future_recipe(), ["optimizer=sgd", "widths=1,2", "train_samples=none"])
    assert (config.optimizer, config.widths, config.train_samples) == ("sgd", (1, 2), None)
    with pytest.raises(ConfigError, match="expects one of 'adam', 'sgd', received 'lbfgs'"):
        apply_overrides(future_recipe(), ["optimizer=lbfgs"])
    with pytest.raises(ConfigError, match="expects an integer or none"):
        from_mapping(future_recipe, {"train_samples": 1.5}, "run.yaml")


def test_string_annotation_module_comments(future_recipe):
    comments = field_comments(future_recipe)
    assert comments["widths"] == "channels per stage"
    assert comments["epochs"] == "passes over the training data"


# --- range checks before any data loads ---------------------------------------------------------


@dataclass
class CheckedConfig(RecipeConfig):
    dropout: float = 0.2  # fraction dropped
    widths: tuple[int, ...] = (32, 64)  # channels per stage

    field_checks = {"dropout": checks.rate, "widths": checks.positive_ints}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"dropout": 1.5},
            "expected a rate in [0, 1), received dropout=1.5. Fix: --set dropout=0.2",
        ),
        ({"widths": (32, 0)}, "received widths=(32, 0). Fix: --set widths=32,64"),
        ({"epochs": 0}, "expected a positive integer, received epochs=0. Fix: --set epochs=10"),
        ({"seed": -1}, "expected a non-negative integer, received seed=-1. Fix: --set seed=0"),
    ],
)
def test_check_fields_names_the_field_and_sets_it_back_to_its_default(fields, message):
    with pytest.raises(ConfigError) as caught:
        check_fields(CheckedConfig(**fields))
    assert str(caught.value).endswith(message)


def test_check_fields_takes_the_fix_from_the_recipes_defaults():
    with pytest.raises(ConfigError, match=r"received epochs=0\. Fix: --set epochs=20$"):
        check_fields(CheckedConfig(epochs=0), defaults=CheckedConfig(epochs=20))


def test_a_subclass_inherits_its_bases_field_checks():
    assert set(all_field_checks(CheckedConfig)) == {
        "seed",
        "epochs",
        "batch_size",
        "dropout",
        "widths",
    }
    assert "field_checks" not in {f.name for f in dataclasses.fields(CheckedConfig)}
    assert "field_checks" not in to_yaml(CheckedConfig(), "demo", {})


# Numeric fields left to a recipe's check_config or to its data loader, whose messages say more
# than a range (the field and the data it must fit): every other one has a field check.
CHECKED_ELSEWHERE = {
    "feature_maps",  # Recipe.check: the known methods
    "train_samples",  # the data loader: at most the training images it has
    "hidden",  # vae, dbn check_config: one size per layer or RBM
    "class_loss",  # gan check_config: only for a conditional GAN
    "learning_rate",  # gan, dbn check_config (the others have a field check)
    "pretrain_learning_rate",  # dbn check_config
    "backbone",  # transfer-in-domain check_config: an existing weights file
    "eval_epsilons",  # fashion-adversarial check_config: radii in the pixel range
    "categorical",  # tabular-*: column names, checked against the table once it is read
    "drop",  # tabular-*: the same
    "labels",  # active-fashion check_config: a rising schedule the pool can fill
    "strategies",  # active-fashion check_config: known strategy names
    "pretrained_strategies",  # the same
    "epochs",  # active-fashion: derived from labels (one round an epoch), not a setting
}


@pytest.mark.parametrize("name", list(recipes.RECIPES))
def test_every_recipes_defaults_pass_and_every_numeric_field_is_checked(name):
    recipe = recipes.get(name)
    recipe.check(recipe.config())
    hints = typing.get_type_hints(recipe.config_class)
    checked = all_field_checks(recipe.config_class)
    assert set(checked) <= set(hints), "a field check names no field"
    unchecked = {
        field
        for field, hint in hints.items()
        if field not in checked
        and field != "field_checks"
        and hint not in (str, bool)
        and typing.get_origin(hint) not in (Literal, typing.ClassVar)
    }
    assert unchecked <= CHECKED_ELSEWHERE


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        (
            "fashion-mlp",
            {"dropout": 1.5},
            "fashion-mlp: expected a rate in [0, 1), received dropout=1.5. Fix: --set dropout=0.2",
        ),
        (
            "mnist-mlp",
            {"epochs": 0},
            "mnist-mlp: expected a positive integer, received epochs=0. Fix: --set epochs=20",
        ),
        (
            "fashion-cnn",
            {"filters": (32, 0, 64)},
            "fashion-cnn: expected a sequence of positive integers, received filters=(32, 0, 64). Fix: --set filters=32,64,64",
        ),
        (
            "textgen-transformer",
            {"units": 130},
            "textgen-transformer: expected units a multiple of heads=4, received units=130. Fix: --set units=128",
        ),
        (
            "sentiment-lstm",
            {"min_freq": 0},
            "sentiment-lstm: expected a positive integer, received min_freq=0. Fix: --set min_freq=2",
        ),
        (
            "forecast-lstm",
            {"learning_rate": 0.0},
            "forecast-lstm: expected a positive number, received learning_rate=0.0. Fix: --set learning_rate=0.003",
        ),
    ],
)
def test_a_recipe_refuses_a_bad_value_before_loading_data_naming_recipe_field_and_fix(
    name, fields, message, monkeypatch
):
    recipe = recipes.get(name)
    monkeypatch.setattr(recipe.module, "build", lambda config: pytest.fail("build was called"))
    with pytest.raises(ConfigError) as caught:
        recipe.build(recipe.config(**fields))
    assert str(caught.value) == message


def test_an_empty_set_value_is_an_empty_list():
    assert apply_overrides(RecipeConfig(), ["feature_maps="]).feature_maps == ()


# --- the settings table -----------------------------------------------------------------------


def test_describe_fields_gives_name_type_value_and_comment():
    rows = {row[0]: row[1:] for row in describe_fields(MlpConfig(widths=(8, 16)))}
    assert rows["widths"] == ("list[int]", "8,16", "channels per stage")
    assert rows["optimizer"] == ("adam | sgd", "adam", "optimizer name")
    assert rows["train_samples"] == (
        "int | none",
        "none",
        "use only this many training images (None = all)",
    )
    assert rows["kernel"] == ("[int, int]", "3,3", "convolution kernel height and width")
    assert rows["label_smoothing"][:2] == ("float | none", "none")
    assert rows["augment"][:2] == ("bool", "false")
