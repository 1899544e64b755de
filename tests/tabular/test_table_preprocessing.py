"""TablePreprocessor: numbers against closed forms, the inference rule, unseen and missing
values, the JSON state, and every bad input."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from ember.errors import ConfigError, DataError
from ember.tabular import TablePreprocessor, embedding_size, infer_roles, read_table


def training_frame():
    return pd.DataFrame(
        {
            "colour": ["red", "blue", None, "green", "blue", "red"],
            "rooms": [1, 2, 2, 3, 1, 1],  # integers with few values -> categorical
            "area": [50.0, np.nan, 80.0, 65.0, np.nan, 40.0],
            "age": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],  # no missing values -> no indicator
            "label": ["no", "yes", "yes", "no", "yes", "no"],
        }
    )


def test_roles_are_inferred_by_dtype_and_integer_cardinality():
    frame = training_frame().assign(
        many=np.arange(6) * 100,  # 6 integer values <= 20: categorical
        flag=[True, False] * 3,
        kind=pd.Categorical(list("abcabc")),
    )
    assert infer_roles(frame, "label") == (
        ["colour", "rooms", "many", "flag", "kind"],
        ["area", "age"],
    )
    wide = pd.DataFrame({"id": np.arange(21), "y": np.arange(21) % 2})
    assert infer_roles(wide, "y") == ([], ["id"])  # 21 integer values > 20: numeric
    named = infer_roles(frame, "label", categorical=["age"], numeric=["rooms"])
    assert named == (["colour", "age", "many", "flag", "kind"], ["rooms", "area"])  # table order


def test_transform_matches_the_closed_form():
    frame = training_frame()
    pre = TablePreprocessor("label").fit(frame)
    assert pre.categorical == ["colour", "rooms"] and pre.numeric == ["area", "age"]
    assert pre.indicators == ["area"] and pre.n_numeric == 3
    assert pre.cardinalities == [3 + 2, 3 + 2] and pre.class_names == ["no", "yes"]
    features = pre.transform(frame)
    assert features.dtype == torch.float32 and features.shape == (6, 2 + 3)

    # codes: 0 unknown, 1 missing, 2.. the sorted training values (blue, green, red / 1, 2, 3)
    assert features[:, 0].tolist() == [4, 2, 1, 3, 2, 4]
    assert features[:, 1].tolist() == [2, 3, 3, 4, 2, 2]
    area = frame["area"].to_numpy()
    median = np.median(area[~np.isnan(area)])
    imputed = np.where(np.isnan(area), median, area)
    expected_area = (imputed - imputed.mean()) / imputed.std()
    age = frame["age"].to_numpy()
    expected_age = (age - age.mean()) / age.std()
    np.testing.assert_allclose(features[:, 2].numpy(), expected_area, rtol=1e-6)
    np.testing.assert_allclose(features[:, 3].numpy(), expected_age, rtol=1e-6)
    assert features[:, 4].tolist() == [0, 1, 0, 0, 1, 0]  # area was missing
    assert pre.medians["area"] == median
    assert pre.targets(frame).tolist() == [0, 1, 1, 0, 1, 0]
    assert pre.targets(frame).dtype == torch.int64


def test_new_rows_use_the_training_statistics():
    pre = TablePreprocessor("label").fit(training_frame())
    new = pd.DataFrame(
        {"colour": [np.nan], "rooms": [3], "area": [np.nan], "age": [np.nan], "label": ["no"]}
    )
    row = pre.transform(new)[0]
    assert row[:2].tolist() == [1, 4]  # missing colour -> 1; rooms 3 -> third value
    assert row[2].item() == pytest.approx(
        (pre.medians["area"] - pre.means["area"]) / pre.stds["area"]
    )
    # age had no missing values in training: imputed with its median, no indicator column
    assert row[3].item() == pytest.approx((3.5 - 3.5) / pre.stds["age"])
    assert row[4].item() == 1.0


def test_regression_targets_are_standardised_and_unscaled():
    frame = training_frame().assign(price=[10.0, 20.0, 30.0, 40.0, 50.0, 60.0])
    pre = TablePreprocessor("price").fit(frame.drop(columns="label"))
    assert pre.task == "regression" and pre.out_features == 1
    targets = pre.targets(frame)
    price = frame["price"].to_numpy()
    np.testing.assert_allclose(
        targets[:, 0].numpy(), (price - price.mean()) / price.std(), rtol=1e-6
    )
    assert targets.shape == (6, 1)
    np.testing.assert_allclose(pre.unscale_targets(targets)[:, 0].numpy(), price, rtol=1e-6)


def test_a_log_target_is_standardised_as_a_logarithm_and_comes_back_in_its_units():
    frame = training_frame().assign(price=[10.0, 20.0, 30.0, 40.0, 50.0, 600.0])
    pre = TablePreprocessor("price", log_target=True).fit(frame.drop(columns="label"))
    logs = np.log(frame["price"].to_numpy())
    targets = pre.targets(frame)
    np.testing.assert_allclose(targets[:, 0].numpy(), (logs - logs.mean()) / logs.std(), rtol=1e-5)
    np.testing.assert_allclose(
        pre.unscale_targets(targets)[:, 0].numpy(), frame["price"], rtol=1e-5
    )
    again = TablePreprocessor.from_state_dict(json.loads(json.dumps(pre.state_dict())))
    assert torch.equal(again.unscale_targets(targets), pre.unscale_targets(targets))
    with pytest.raises(DataError, match="positive values of 'price', received 1 rows <= 0"):
        TablePreprocessor("price", log_target=True).fit(frame.assign(price=[0.0, 1, 2, 3, 4, 5]))
    with pytest.raises(ConfigError, match="log_target=True is for regression"):
        TablePreprocessor("label", log_target=True).fit(training_frame())
    with pytest.raises(ConfigError, match="log_target=True is for regression"):
        TablePreprocessor("label", task="classification", log_target=True)


def test_held_out_rows_can_be_encoded_without_a_warning():
    pre = TablePreprocessor("label").fit(training_frame())
    new = training_frame().assign(colour=["purple", "red", "pink", "purple", None, "blue"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet = pre.transform(new, warn=False)
        loud = pre.transform(new)  # the first warned call still warns: nothing was recorded
    assert torch.equal(quiet, loud) and len(caught) == 1


def test_unseen_categories_map_to_zero_and_warn_once_per_column():
    pre = TablePreprocessor("label").fit(training_frame())
    new = training_frame().assign(colour=["purple", "red", "pink", "purple", None, "blue"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = pre.transform(new)
        pre.transform(new)
    assert first[:, 0].tolist() == [0, 4, 0, 0, 1, 2]
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "'colour'" in message and "3 of 6 rows" in message and "purple" in message


def test_state_dict_is_json_and_round_trips():
    frame = training_frame()
    pre = TablePreprocessor("label").fit(frame)
    state = json.loads(json.dumps(pre.state_dict()))
    again = TablePreprocessor.from_state_dict(state)
    assert torch.equal(again.transform(frame), pre.transform(frame))
    assert torch.equal(again.targets(frame), pre.targets(frame))
    assert again.cardinalities == pre.cardinalities
    with pytest.raises(ConfigError, match="lacks"):
        TablePreprocessor.from_state_dict({"target": "label"})


def test_embedding_sizes_follow_fastais_rule():
    pre = TablePreprocessor("label").fit(training_frame())
    assert pre.embedding_sizes == [round(1.6 * 5**0.56)] * 2
    for n in (2, 7, 50, 1000, 10**8):
        assert embedding_size(n) == min(600, round(1.6 * n**0.56))


def test_csv_path_reads_like_the_frame(tmp_path):
    path = tmp_path / "rows.csv"
    training_frame().to_csv(path, index=False)
    assert torch.equal(
        TablePreprocessor("label").fit_transform(path),
        TablePreprocessor("label").fit_transform(training_frame()),
    )


def test_bad_columns_are_config_errors_listing_the_columns():
    frame = training_frame()
    with pytest.raises(ConfigError, match=r"'colours' is not in the table.*did you mean 'colour'"):
        TablePreprocessor("label", categorical=["colours"]).fit(frame)
    with pytest.raises(ConfigError, match=r"target column 'lable'.*'area', 'age', 'label'"):
        TablePreprocessor("lable").fit(frame)
    with pytest.raises(ConfigError, match="named twice"):
        TablePreprocessor("label", categorical=["area"], numeric=["area"]).fit(frame)
    with pytest.raises(ConfigError, match="numeric column 'colour'"):
        TablePreprocessor("label", numeric=["colour"]).fit(frame)
    with pytest.raises(ConfigError, match="list of column names"):
        TablePreprocessor("label", categorical="colour").fit(frame)
    with pytest.raises(ConfigError, match="task in"):
        TablePreprocessor("label", task="ranking")
    pre = TablePreprocessor("label").fit(frame)
    with pytest.raises(ConfigError, match="feature column 'area'"):
        pre.transform(frame.drop(columns="area"))
    with pytest.raises(ConfigError, match="not fitted"):
        TablePreprocessor("label").transform(frame)
    with pytest.raises(ConfigError, match="dtype datetime64"):
        TablePreprocessor("label").fit(frame.assign(day=pd.Timestamp("2024-01-01")))


def test_bad_rows_are_data_errors():
    frame = training_frame()
    with pytest.raises(DataError, match="missing in 2 of 6 rows"):
        TablePreprocessor("label").fit(frame.assign(label=["no", None, "yes", None, "no", "yes"]))
    with pytest.raises(DataError, match="empty"):
        TablePreprocessor("label").fit(frame.iloc[:0])
    with pytest.raises(DataError, match="no CSV file"):
        TablePreprocessor("label").fit("/no/such/table.csv")
    pre = TablePreprocessor("label").fit(frame)
    with pytest.raises(DataError, match=r"'area' holds 1 values.*'big'"):
        pre.transform(frame.assign(area=[1.0, "big", 2.0, 3.0, 4.0, 5.0]))
    with pytest.raises(DataError, match="classes not seen in training"):
        pre.targets(frame.assign(label=["maybe"] * 6))
    with pytest.raises(DataError, match="one class"):
        TablePreprocessor("label").fit(frame.assign(label="no"))
    with pytest.raises(DataError, match="no values"):
        TablePreprocessor("label").fit(frame.assign(area=np.nan))


def test_empty_csv_is_a_data_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n")
    with pytest.raises(DataError, match="empty"):
        read_table(path)
