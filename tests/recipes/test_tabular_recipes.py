"""``tabular-credit`` / ``tabular-ames``: split, encoding, a short run on a CSV table, its saved
preprocessing, ``ember predict RUN rows.csv``, the boosting baseline and bad configs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from ember import recipes, tabular
from ember.cli import main
from ember.errors import ConfigError
from ember.recipes.tabular import PREDICTOR_FOLDER, prepare, regression_metrics
from ember.runs import training


def _table(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """A table whose label is a category-dependent sign of a number, with missing values."""
    generator = np.random.default_rng(seed)
    colour = generator.choice(["red", "green", "blue"], rows)
    size = generator.normal(size=rows)
    label = np.where((colour == "red") == (size > 0), "yes", "no")
    price = np.exp(3.0 + size + (colour == "blue"))
    size[::17] = np.nan  # missing numbers, imputed with a "was missing" flag
    colour = colour.astype(object)
    colour[::23] = None
    return pd.DataFrame({"colour": colour, "size": size, "label": label, "price": price})


@pytest.fixture
def table_csv(tmp_path):
    path = tmp_path / "table.csv"
    _table().to_csv(path, index=False)
    return path


def _config(name: str, path, **fields):
    recipe = recipes.get(name)
    base = {"table": str(path), "epochs": 3, "batch_size": 32, "device": "cpu"}
    return recipe, recipe.config(**{**base, **fields})


def test_rows_are_split_stratified_and_encoded_with_the_training_rows_only(table_csv):
    _, config = _config("tabular-credit", table_csv, target="label", drop=("price",))
    data = prepare(config)
    sizes = {name: len(frame) for name, frame in data.frames.items()}
    assert sizes == {"train": 153, "val": 39, "test": 48}  # 20% test, 20% of the rest for val
    for name in ("train", "val", "test"):
        share = (data.raw_targets[name] == "yes").mean()
        assert share == pytest.approx((data.raw_targets["train"] == "yes").mean(), abs=0.05)
    # "size" standardised with the training rows' own median, mean and std (codes come first).
    size = data.frames["train"]["size"]
    imputed = size.fillna(size.median())
    expected = (imputed - imputed.mean()) / imputed.std(ddof=0)
    column = len(data.preprocessor.categorical)
    np.testing.assert_allclose(data.train[0][:, column].numpy(), expected.to_numpy(), atol=1e-5)
    assert "price" not in data.frames["train"].columns and data.class_names == ["no", "yes"]


def test_a_short_classification_run_saves_its_preprocessing_and_predicts_raw_rows(
    tmp_path, table_csv, capsys
):
    recipe, config = _config("tabular-credit", table_csv, target="label", drop=("price",))
    result = training.train(recipe, config, out=tmp_path / "run", verbose=0)
    assert {"accuracy", "f1", "roc_auc"} <= set(result.test)
    assert all(math.isfinite(value) for value in result.test.values())
    predictor = tabular.load(tmp_path / "run" / PREDICTOR_FOLDER)
    experiment, _ = training.load_experiment(tmp_path / "run")
    rows = _table(5, seed=1).drop(columns=["label", "price"])
    x = experiment.data.preprocessor.transform(rows)
    torch.testing.assert_close(
        torch.from_numpy(predictor.predict(rows)), experiment.probabilities(x), atol=1e-5, rtol=0
    )
    rows_csv = tmp_path / "rows.csv"
    rows.assign(colour=["red", "purple", None, "blue", "green"]).to_csv(rows_csv, index=False)
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "run"), str(rows_csv)]) == 0
    out = capsys.readouterr().out
    assert out.count("rows.csv row") == 5 and "'purple'" in out and "unknown" in out
    written = tmp_path / "predictions.csv"
    assert main(["predict", str(tmp_path / "run"), str(rows_csv), "--csv", str(written)]) == 0
    table = pd.read_csv(written)
    assert list(table.columns[-3:]) == ["predicted_label", "probability_no", "probability_yes"]
    np.testing.assert_allclose(
        table[["probability_no", "probability_yes"]].sum(axis=1), 1.0, atol=1e-5
    )


def test_a_log_target_regression_run_is_scored_in_its_units_beside_boosting(tmp_path, table_csv):
    recipe, config = _config("tabular-ames", table_csv, target="price", drop=("label",))
    result = training.train(recipe, config, out=tmp_path / "run", verbose=0)
    keys = {"log_rmse", "rmse", "mae", "r2"}
    assert keys | {f"boosting_{key}" for key in keys} <= set(result.test)
    assert (tmp_path / "run" / "evaluation" / "test" / "predicted_vs_true.png").is_file()
    predictor = tabular.load(tmp_path / "run" / PREDICTOR_FOLDER)
    experiment, _ = training.load_experiment(tmp_path / "run")
    test_rows = experiment.data.frames["test"]
    predicted = predictor.predict(test_rows)  # dollars, not logs: the preprocessor undoes both
    truth = experiment.data.raw_targets["test"]
    log_rmse = float(np.sqrt(np.mean((np.log(predicted) - np.log(truth)) ** 2)))
    assert log_rmse == pytest.approx(result.test["log_rmse"], rel=1e-4)


def test_regression_metrics_equal_scikit_learns():
    generator = np.random.default_rng(0)
    truth, predicted = generator.uniform(1, 5, 50), generator.uniform(1, 5, 50)
    metrics = regression_metrics(np.log(predicted), np.log(truth), True, "x_")
    assert metrics["x_rmse"] == pytest.approx(mean_squared_error(truth, predicted) ** 0.5)
    assert metrics["x_mae"] == pytest.approx(mean_absolute_error(truth, predicted))
    assert metrics["x_r2"] == pytest.approx(r2_score(truth, predicted))
    assert metrics["x_log_rmse"] == pytest.approx(
        mean_squared_error(np.log(truth), np.log(predicted)) ** 0.5
    )


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"target": "colur"}, r"target='colur' is not a column.*colour, size, label, price"),
        ({"drop": ("weight",)}, r"drop names weight, which the table lacks.*colour, size"),
        ({"model": "ft_transformer", "d_token": 30}, r"d_token divisible by heads"),
        ({"model": "forest"}, r"model"),
        ({"task": "classification", "log_target": True}, r"log_target=true is for regression"),
    ],
    ids=["target", "drop", "heads", "model", "log_target"],
)
def test_bad_configs_fail_naming_the_field_before_any_file_is_written(
    tmp_path, table_csv, fields, match
):
    recipe, config = _config("tabular-credit", table_csv, **{"target": "label", **fields})
    with pytest.raises(ConfigError, match=match):
        training.train(recipe, config, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_predict_refuses_a_mix_of_tables_and_images(tmp_path, capsys):
    assert main(["predict", str(tmp_path), "a.csv", "b.png"]) == 2
    assert "either CSV tables or images" in capsys.readouterr().err


def test_a_last_training_batch_of_one_row_joins_validation_so_batch_norm_can_train(table_csv):
    recipe, config = _config("tabular-credit", table_csv, target="label", batch_size=8)
    experiment = recipe.build(config)  # 153 training rows: 19 batches of 8 and one of 1
    assert len(experiment.data.frames["train"]) == 152
    assert len(experiment.data.frames["val"]) == 40
    history = experiment.trainer.fit(experiment.batches("train", shuffle=True), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
