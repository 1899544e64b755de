"""``forecast-lstm``: windows, training-only scaling, the two baselines, a short run, bad configs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from ember import recipes
from ember.datasets import sunspots
from ember.errors import ConfigError
from ember.recipes.forecast import (
    autoregressive_forecast,
    fit_autoregressive,
    persistence_forecast,
    sliding_windows,
    split_series,
)
from ember.runs import training

METRICS = {"mae", "rmse", "persistence_mae", "persistence_rmse", "ar_mae", "ar_rmse"}
METRICS |= {"mae_vs_persistence"}


def test_sliding_windows_pair_each_window_with_the_next_value():
    inputs, targets = sliding_windows(np.array([5.0, 1.0, 4.0, 2.0, 8.0]), 3)
    np.testing.assert_array_equal(inputs, [[5.0, 1.0, 4.0], [1.0, 4.0, 2.0]])
    np.testing.assert_array_equal(targets, [2.0, 8.0])


def test_split_is_by_target_year_and_scaling_uses_the_training_part_only():
    years = np.arange(2000, 2012)
    values = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0, 4.0, 6.0, 100.0, 200.0, 300.0, 400.0])
    data = split_series(years, values, window=2, validation_years=2, test_years=2)
    # 10 targets (2002-2011): 6 training, 2 validation, 2 test; the training part is every
    # value before the first validation target (2008), i.e. values[:8].
    assert data.years["train"].tolist() == list(range(2002, 2008))
    assert data.years["val"].tolist() == [2008, 2009]
    assert data.years["test"].tolist() == [2010, 2011]
    assert data.mean == pytest.approx(3.5) and data.scale == pytest.approx(np.std(values[:8]))
    train_x, train_y = data.train
    assert train_x.shape == (6, 2, 1) and train_y.shape == (6, 1)
    # The training part standardised: the first value is (1 - 3.5) / std.
    assert float(train_x[0, 0, 0]) == pytest.approx((1.0 - 3.5) / np.std(values[:8]))
    # Held-out values, however large, change nothing about the scaling.
    changed = split_series(
        years, np.r_[values[:8], [1e4, 1e5, 1e6, 1e7]], window=2, validation_years=2, test_years=2
    )
    assert (changed.mean, changed.scale) == (data.mean, data.scale)
    # Test windows read the true preceding years (validation ones included) and scale back.
    test_x, test_y = data.test
    np.testing.assert_allclose(data.unscale(test_x[..., 0]), [[100, 200], [200, 300]], rtol=1e-6)
    np.testing.assert_allclose(data.unscale(test_y[:, 0]), [300, 400], rtol=1e-6)


def test_persistence_repeats_the_last_value_of_each_window():
    windows = np.array([[4.0, 8.0], [8.0, 7.0], [7.0, 7.5]])
    np.testing.assert_array_equal(persistence_forecast(windows), [8.0, 7.0, 7.5])


def test_autoregressive_baseline_recovers_a_hand_made_linear_recurrence():
    # x[t] = 0.25 x[t-2] + 0.5 x[t-1] + 2, from 4, 8: by hand 7, 7.5, 7.5, 7.625, 7.6875
    series = np.array([4.0, 8.0, 7.0, 7.5, 7.5, 7.625, 7.6875])
    windows, targets = sliding_windows(series, 2)
    coefficients = fit_autoregressive(windows, targets)
    np.testing.assert_allclose(coefficients, [0.25, 0.5, 2.0], atol=1e-9)
    forecast = autoregressive_forecast(coefficients, np.array([[7.625, 7.6875]]))
    np.testing.assert_allclose(forecast, [0.25 * 7.625 + 0.5 * 7.6875 + 2], atol=1e-9)


def test_autoregressive_baseline_matches_scikit_learn_on_the_sunspots():
    _, values = sunspots()
    windows, targets = sliding_windows(values.astype(np.float64), 10)
    reference = LinearRegression().fit(windows, targets)
    coefficients = fit_autoregressive(windows, targets)
    np.testing.assert_allclose(coefficients[:-1], reference.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        autoregressive_forecast(coefficients, windows), reference.predict(windows), atol=1e-6
    )


def test_a_short_run_logs_finite_forecast_metrics_draws_them_and_reports_them(tmp_path):
    recipe = recipes.get("forecast-lstm")
    config = recipe.config(epochs=2, units=4, device="cpu")
    result = training.train(recipe, config, out=tmp_path / "run", verbose=0)
    test = result.test
    assert METRICS <= set(test) and all(math.isfinite(test[key]) for key in METRICS)
    assert test["mae_vs_persistence"] == pytest.approx(1 - test["mae"] / test["persistence_mae"])
    # Persistence on the last 30 years, by hand from the raw series: mean |v[t] - v[t-1]|.
    _, values = sunspots()
    by_hand = np.abs(np.diff(values.astype(np.float64))[-30:]).mean()
    assert test["persistence_mae"] == pytest.approx(by_hand, rel=1e-5)
    assert test["ar_mae"] < test["persistence_mae"]  # AR(10) is ~40% better on these years
    plot = tmp_path / "run" / "evaluation" / "test" / "forecast_vs_truth.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "run" / "report.html").read_text()
    assert 'alt="forecast vs truth"' in report and "persistence_mae" in report
    # `ember evaluate RUN --split val` goes through the same evaluator.
    val = training.evaluate(tmp_path / "run", "val")
    assert METRICS <= set(val) and val["persistence_mae"] != test["persistence_mae"]
    assert (tmp_path / "run" / "evaluation" / "val" / "forecast_vs_truth.png").is_file()


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"window": 0}, r"received window=0\. Fix: --set window=10"),
        ({"validation_years": 0}, r"received validation_years=0\. Fix: --set validation_years="),
        ({"test_years": 300}, r"received test_years=300, .*Fix: set test_years to at most 258"),
        ({"validation_years": 290}, r"validation_years=290\. Fix: keep .* at most 288"),
    ],
    ids=["window", "validation_years", "test_years", "validation_years_too_large"],
)
def test_bad_config_values_fail_naming_the_field_before_any_file_is_written(
    tmp_path, fields, match
):
    recipe = recipes.get("forecast-lstm")
    with pytest.raises(ConfigError, match=match):
        training.train(recipe, recipe.config(device="cpu", **fields), out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_network_maps_windows_to_one_forecast_each():
    recipe = recipes.get("forecast-lstm")
    experiment = recipe.build(recipe.config(window=5, units=3, device="cpu"))
    x, y = experiment.data.train
    assert x.shape[1:] == (5, 1) and y.shape[1:] == (1,)
    assert experiment.predict(x[:7]).shape == (7, 1)
    assert experiment.monitor == "val_loss" and torch.isfinite(experiment.predict(x)).all()
