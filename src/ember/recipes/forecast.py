"""``forecast-lstm``: next year's sunspot number from the previous ``window`` years, with an LSTM.

The yearly sunspot numbers 1700-2008 (statsmodels' bundled data) are cut into sliding windows:
``window`` past years in, the next year out. The windows are split by time: the last
``test_years`` target years are the test part, the ``validation_years`` before them the
validation part (its loss picks the ``best`` checkpoint), and all years before are the training
part. Values are standardised with the mean and standard deviation of the training part only.

The forecasts are one step ahead: the forecast for each test year reads the true values of the
years before it (earlier test years included) and never its own earlier forecasts, which is
also what persistence does. The evaluator scores the LSTM in sunspot numbers (MAE, RMSE)
against two baselines on exactly the same years: persistence (next year = this year) and a
linear autoregressive model of the same window, fitted by least squares on the training part.
``mae_vs_persistence`` is the LSTM's relative reduction of persistence's MAE (0.25: 25% lower);
``evaluation/<split>/forecast_vs_truth.png`` draws all of them against the truth. The test
numbers at the end of a run are the last checkpoint's (the learning rate has decayed to zero by
then); ``ember evaluate RUN --checkpoint best`` scores the one the validation loss picked.

    ember train forecast-lstm
    ember train forecast-lstm --set window=20 --set units=64
    ember evaluate runs/forecast-lstm-... --split val --checkpoint best
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ember import checks, layers, models, optimizers, schedules
from ember.datasets import sunspots
from ember.errors import ConfigError
from ember.plots.figure import new_figure, save_figure
from ember.recipes.config import RecipeConfig, check_fields
from ember.recipes.experiment import DataSplits, Experiment


@dataclass
class Config(RecipeConfig):
    epochs: int = 60  # passes over the training windows
    batch_size: int = 16  # windows per training step
    window: int = 10  # past years the network reads to forecast the next one
    units: int = 32  # LSTM hidden size
    learning_rate: float = 0.003  # Adam's initial step size; decays to 0 along a cosine
    test_years: int = 30  # the last years, held out and forecast one step ahead
    validation_years: int = 30  # the years before them; their loss picks the best checkpoint

    field_checks = {
        "window": checks.positive_int,
        "units": checks.positive_int,
        "learning_rate": checks.positive_number,
        "test_years": checks.positive_int,
        "validation_years": checks.positive_int,
    }


@dataclass
class SeriesData(DataSplits):
    """Standardised windows ``(N, window, 1)`` and next values ``(N, 1)``, split by time."""

    years: dict[str, np.ndarray] = field(default_factory=dict)  # each target's year, per split
    mean: float = 0.0  # mean of the training part (sunspot numbers)
    scale: float = 1.0  # standard deviation of the training part

    def unscale(self, values: torch.Tensor) -> np.ndarray:
        """Standardised values (any shape) back to sunspot numbers, as float64."""
        return values.double().numpy() * self.scale + self.mean


# -- windows, split and scaling ------------------------------------------------------------------
def sliding_windows(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Every run of ``window`` values ``(N - window, window)`` and the value after it ``(N - window,)``.

    Example:
        >>> x, y = sliding_windows(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 2)
        >>> x.tolist(), y.tolist()
        ([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]], [3.0, 4.0, 5.0])
    """
    inputs = np.lib.stride_tricks.sliding_window_view(values, window)[:-1]  # (N - window, window)
    return inputs.copy(), values[window:].copy()


def split_series(
    years: np.ndarray, values: np.ndarray, *, window: int, validation_years: int, test_years: int
) -> SeriesData:
    """Windows of ``values`` split by target year, standardised with the training part's statistics.

    The training part is every value before the first validation target: the inputs and targets
    of the training windows, and nothing later.

    Example:
        >>> data = split_series(np.arange(2000, 2008), np.arange(8.0), window=2,
        ...                     validation_years=1, test_years=2)
        >>> data.years["train"].tolist(), data.years["val"].tolist(), data.years["test"].tolist()
        ([2002, 2003, 2004], [2005], [2006, 2007])
        >>> data.mean, data.train[0].shape
        (2.0, torch.Size([3, 2, 1]))
    """
    inputs, targets = sliding_windows(np.asarray(values, dtype=np.float64), window)
    target_years = np.asarray(years)[window:]
    train_end = len(targets) - validation_years - test_years  # first validation window
    training_part = values[: train_end + window]
    mean, scale = float(training_part.mean()), float(training_part.std()) or 1.0
    x = torch.from_numpy((inputs - mean) / scale).float().unsqueeze(-1)  # (N, window, 1)
    y = torch.from_numpy((targets - mean) / scale).float().unsqueeze(-1)  # (N, 1)
    bounds = {"train": (0, train_end), "val": (train_end, len(targets) - test_years)}
    bounds["test"] = (len(targets) - test_years, len(targets))
    parts = {name: (x[start:end], y[start:end]) for name, (start, end) in bounds.items()}
    return SeriesData(
        parts["train"],
        parts["val"],
        parts["test"],
        class_names=[],
        input_shape=(window, 1),
        years={name: target_years[start:end] for name, (start, end) in bounds.items()},
        mean=mean,
        scale=scale,
    )


def check_config(config: Config, years: int | None = None) -> None:
    """Raise a :class:`ConfigError` naming the field and the fix for a config the series can't fit.

    Example:
        >>> check_config(Config(window=0), 309)
        Traceback (most recent call last):
        ...
        ember.errors.ConfigError: expected a positive integer, received window=0. Fix: ...
    """
    check_fields(config)
    if years is None:  # the series is not loaded yet: only the fields' own ranges
        return
    # The linear baseline fits window + 1 numbers (weights and intercept), so it needs as many
    # training windows at least.
    held_out = years - config.window - (config.window + 1)  # most years val + test can take
    if config.test_years + config.validation_years > held_out:
        if held_out - config.validation_years >= 1:
            fix = f"set test_years to at most {held_out - config.validation_years}"
        else:
            fix = f"keep test_years + validation_years at most {held_out}, or shorten window"
        raise ConfigError(
            f"expected test_years + validation_years <= {held_out} for window={config.window} on "
            f"{years} years (the training part needs {config.window + 1} windows for the linear "
            f"baseline), received test_years={config.test_years}, "
            f"validation_years={config.validation_years}. Fix: {fix}."
        )


# -- the baselines -------------------------------------------------------------------------------
def persistence_forecast(windows: np.ndarray) -> np.ndarray:
    """Next value = last value: ``(N, window)`` -> ``(N,)``.

    Example:
        >>> persistence_forecast(np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]])).tolist()
        [3.0, 5.0]
    """
    return windows[:, -1]


def fit_autoregressive(windows: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Least-squares weights of ``target ~ windows @ w + b``; returns ``(window + 1,)``, ``b`` last.

    Example:
        >>> x, y = sliding_windows(np.array([1.0, 3.0, 7.0, 15.0, 31.0]), 1)  # next = 2 last + 1
        >>> fit_autoregressive(x, y).round(6).tolist()
        [2.0, 1.0]
    """
    design = np.column_stack([windows, np.ones(len(windows))])  # (N, window + 1)
    coefficients, *_ = np.linalg.lstsq(design, targets, rcond=None)
    return coefficients


def autoregressive_forecast(coefficients: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """The linear model's forecast ``(N,)`` for windows ``(N, window)``.

    Example:
        >>> autoregressive_forecast(np.array([2.0, 1.0]), np.array([[31.0]])).tolist()
        [63.0]
    """
    return windows @ coefficients[:-1] + coefficients[-1]


# -- the recipe ----------------------------------------------------------------------------------
def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    years, values = sunspots()
    check_config(config, len(values))
    data = split_series(
        years,
        values,
        window=config.window,
        validation_years=config.validation_years,
        test_years=config.test_years,
    )
    # -- the network: windows (N, window, 1) -> last hidden state (N, units) -> forecast (N, 1)
    model = models.Sequential(
        [layers.LSTM(config.units, input_shape=(config.window, 1)), layers.Dense(1)]
    )
    # -- training: mean squared error on standardised values, Adam on a cosine to zero ---------
    model.compile(
        optimizer=optimizers.Adam(learning_rate=schedules.CosineDecay(config.learning_rate)),
        loss="mse",
        device=config.device,
    )
    return Experiment(
        network=model,
        trainer=model.trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        predict=model,  # the output is the forecast itself, not class probabilities
        evaluation="custom",
        evaluator=evaluate_forecasts,
        best_by="loss",
    )


def evaluate_forecasts(experiment: Experiment, split: str, out_dir: Path) -> dict[str, float]:
    """MAE and RMSE (sunspot numbers) of the LSTM, persistence and AR on ``split``; draw them.

    Writes ``out_dir/forecast_vs_truth.png``. ``mae_vs_persistence`` is ``1 - mae /
    persistence_mae``: 0.25 means the LSTM's MAE is 25% below persistence's.

    Example (what ``ember evaluate RUN --split val`` does with a finished run):
        >>> from ember.runs import training
        >>> experiment, _ = training.load_experiment(run)  # doctest: +SKIP
        >>> metrics = evaluate_forecasts(experiment, "test", run / "evaluation" / "test")  # doctest: +SKIP
        >>> round(metrics["persistence_mae"], 1), round(metrics["mae_vs_persistence"], 2)  # doctest: +SKIP
        (24.4, 0.48)
    """
    data: SeriesData = experiment.data
    x, y = data.split(split)  # (N, window, 1), (N, 1), standardised
    network = experiment.network.eval()
    with torch.inference_mode():
        output = network(x.to(experiment.trainer.device)).float().cpu()  # (N, 1)
    windows, truth = data.unscale(x[..., 0]), data.unscale(y[:, 0])  # (N, window), (N,)
    train_windows, train_targets = data.unscale(data.train[0][..., 0]), data.unscale(data.train[1])
    coefficients = fit_autoregressive(train_windows, train_targets[:, 0])
    forecasts = {
        "LSTM": data.unscale(output[:, 0]),
        "persistence": persistence_forecast(windows),
        f"linear AR({windows.shape[1]})": autoregressive_forecast(coefficients, windows),
    }
    metrics: dict[str, float] = {}
    for prefix, forecast in zip(("", "persistence_", "ar_"), forecasts.values()):
        errors = forecast - truth
        metrics[f"{prefix}mae"] = float(np.abs(errors).mean())
        metrics[f"{prefix}rmse"] = float(np.sqrt((errors**2).mean()))
    persistence_mae = metrics["persistence_mae"]
    metrics["mae_vs_persistence"] = (
        1.0 - metrics["mae"] / persistence_mae if persistence_mae > 0 else float("nan")
    )
    years = data.years[split]
    title = f"Yearly sunspots, {split} years {years[0]}-{years[-1]}: one-step-ahead forecasts"
    plot_forecasts(years, truth, forecasts, Path(out_dir) / "forecast_vs_truth.png", title)
    return metrics


def plot_forecasts(
    years: np.ndarray,
    truth: np.ndarray,
    forecasts: dict[str, np.ndarray],
    path: Path,
    title: str = "One-step-ahead forecasts against the truth",
) -> None:
    """Truth and each forecast against the year, each forecast's MAE in the legend; save a PNG.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "forecast.png"
        >>> plot_forecasts(np.array([2000, 2001]), np.array([1.0, 2.0]),
        ...                {"persistence": np.array([0.0, 1.0])}, path)
        >>> path.stat().st_size > 0
        True
    """
    figure = new_figure(9, 4.5)
    axes = figure.add_subplot()
    axes.plot(years, truth, color="black", marker="o", markersize=3, linewidth=2, label="truth")
    styles = [{"linewidth": 2}, {"linestyle": "--"}, {"linestyle": ":", "linewidth": 1.8}]
    for (name, forecast), style in zip(forecasts.items(), styles * len(forecasts)):
        mae = float(np.abs(forecast - truth).mean())
        axes.plot(years, forecast, label=f"{name} (MAE {mae:.1f})", **style)
    axes.set_title(title)
    axes.set_xlabel("year")
    axes.set_ylabel("sunspot number")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    save_figure(figure, path)
