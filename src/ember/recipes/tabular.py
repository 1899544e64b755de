"""``tabular-credit`` and ``tabular-ames``: a network on a real table, against gradient boosting.

A table (one of R's modeldata tables, or any CSV file) is split at random into training,
validation and test rows (stratified by class for classification). :class:`ember.tabular.TablePreprocessor`,
fitted on the training rows only, turns each row into numbers: categorical columns into codes
that the network embeds, numeric columns standardised, missing values imputed with a "was
missing" flag. The network is ember's :class:`~ember.tabular.TabularMLP` (embeddings + MLP,
fastai's tabular model) or :class:`~ember.tabular.FTTransformer` (Gorishniy et al. 2021).

- ``tabular-credit``: ``credit_data`` (4,454 loan applications, 13 columns, some missing): is the
  loan's ``Status`` good or bad? Scored like every classifier: accuracy, F1, ROC-AUC, confusion matrix.
- ``tabular-ames``: ``ames`` (2,930 houses sold in Ames, Iowa, 73 columns): ``Sale_Price``, learned
  as its logarithm. Scored by the RMSE of the log price (Kaggle's metric for this table), the RMSE
  and MAE in dollars and R², beside scikit-learn's ``HistGradientBoostingRegressor`` fitted on the
  same training rows; ``evaluation/<split>/predicted_vs_true.png`` draws both.

The preprocessing and weights are also saved as ``RUN/table-model/``, which
``ember.tabular.load`` reads back to predict raw rows; ``ember predict RUN rows.csv`` does the same.
``benchmarks/tabular.py`` runs both recipes against gradient boosting over several splits.

    ember train tabular-credit
    ember train tabular-ames --set model=ft_transformer
    ember train tabular-credit --set table=loans.csv --set target=default
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import EngFormatter, NullFormatter
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from ember import checks, models, optimizers, schedules, tabular
from ember.callbacks import LambdaCallback
from ember.datasets import modeldata
from ember.errors import ConfigError
from ember.plots.figure import new_figure, save_figure
from ember.recipes.config import RecipeConfig, fraction
from ember.recipes.experiment import DataSplits, Experiment

MODELS = ("mlp", "ft_transformer")
PREDICTOR_FOLDER = "table-model"  # in the run folder: what ember.tabular.load reads


@dataclass
class Config(RecipeConfig):
    table: str = "credit_data"  # a modeldata table (credit_data, ames, wa_churn) or a CSV path
    target: str = "Status"  # the column to predict
    task: str = "auto"  # classification, regression, or auto (from the target's values)
    log_target: bool = False  # regression: learn log(target), for prices and other skewed values
    categorical: tuple[str, ...] = ()  # columns to embed as categories (others: inferred)
    drop: tuple[str, ...] = ()  # columns left out of the inputs
    model: str = "mlp"  # mlp (embeddings + MLP) or ft_transformer
    epochs: int = 40  # passes over the training rows
    batch_size: int = 64  # rows per training step
    learning_rate: float = 0.003  # AdamW's initial step size; decays to 0 along a cosine
    weight_decay: float = 0.01  # AdamW's decoupled weight decay
    hidden: tuple[int, ...] = (200, 100)  # mlp: widths of the hidden layers
    dropout: float = 0.1  # dropout in the MLP's blocks, or the transformer's
    d_token: int = 64  # ft_transformer: width of each column's token
    layers: int = 3  # ft_transformer: transformer blocks
    heads: int = 8  # ft_transformer: attention heads (d_token must divide by it)
    test_size: float = 0.2  # fraction of rows held out for the test split
    validation_size: float = 0.2  # fraction of the remaining rows for validation
    feature_maps: tuple[str, ...] = ()  # classification report maps: pca, tsne (none by default)

    field_checks = {
        "learning_rate": checks.positive_number,
        "weight_decay": checks.non_negative_number,
        "dropout": checks.rate,
        "hidden": checks.positive_ints,
        "d_token": checks.positive_int,
        "layers": checks.positive_int,
        "heads": checks.positive_int,
        "test_size": fraction,
        "validation_size": fraction,
    }


@dataclass
class TableData(DataSplits):
    """Encoded rows ``(N, C + D)`` and targets, with the raw rows and the preprocessing."""

    preprocessor: Any = None  # the TablePreprocessor fitted on the training rows
    frames: dict[str, Any] = field(default_factory=dict)  # split -> the raw rows (inputs only)
    raw_targets: dict[str, np.ndarray] = field(default_factory=dict)  # split -> original targets
    log_target: bool = False  # the network learns log(target); it is scored on logs too

    def values(self, network_output: torch.Tensor) -> np.ndarray:
        """A regression network's output ``(N, 1)`` in the target's own units ``(N,)``."""
        values = self.preprocessor.unscale_targets(network_output.float().cpu())
        return values.double().numpy().reshape(-1)


def check_config(config: Config) -> None:
    """Settings that must fit together, checked before the table loads."""
    checks.one_of("model", config.model, MODELS)
    checks.one_of("task", config.task, ("auto", "classification", "regression"))
    if config.model == "ft_transformer" and config.d_token % config.heads:
        raise ConfigError(
            f"expected d_token divisible by heads, received d_token={config.d_token}, "
            f"heads={config.heads}. Fix: --set heads=8 with d_token a multiple of 8."
        )
    if config.log_target and config.task == "classification":
        raise ConfigError(
            "log_target=true is for regression, received task=classification. "
            "Fix: --set log_target=false."
        )


# -- the table and its split ---------------------------------------------------------------------
def load_table(name: str) -> Any:
    """A modeldata table by name, or a CSV file by path (a DataFrame)."""
    if name.lower().endswith(".csv") or "/" in name:
        return tabular.read_table(name)
    return modeldata(name)


def split_rows(table: Any, config: Config, stratify: bool) -> dict[str, Any]:
    """``{"train", "val", "test"}`` -> rows, drawn with the run's seed (stratified by class)."""
    labels = table[config.target].astype(str) if stratify else None
    rest, test = train_test_split(
        table, test_size=config.test_size, random_state=config.seed, stratify=labels
    )
    labels = rest[config.target].astype(str) if stratify else None
    train, val = train_test_split(
        rest, test_size=config.validation_size, random_state=config.seed, stratify=labels
    )
    return {"train": train, "val": val, "test": test}


def prepare(config: Config) -> TableData:
    """Load, check, split and encode the table for ``config``."""
    table = load_table(config.table)
    missing = [column for column in config.drop if column not in table.columns]
    if missing:
        raise ConfigError(
            f"drop names {', '.join(missing)}, which the table lacks; its columns are "
            f"{', '.join(map(str, table.columns))}. Fix: --set drop= with columns from that list."
        )
    table = table.drop(columns=list(config.drop))
    if config.target not in table.columns:
        raise ConfigError(
            f"target={config.target!r} is not a column of the table; its columns are "
            f"{', '.join(map(str, table.columns))}. Fix: --set target= with one of them."
        )
    task = tabular.infer_task(table[config.target], None if config.task == "auto" else config.task)
    classify = task == "classification"
    preprocessor = tabular.TablePreprocessor(
        config.target,
        categorical=list(config.categorical) or None,
        task=task,
        log_target=config.log_target,
    )
    rows = split_rows(table, config, stratify=classify)
    if len(rows["train"]) % config.batch_size == 1:
        # A last batch of one row cannot train BatchNorm (the MLP's): it joins validation.
        rows["val"] = pd.concat([rows["val"], rows["train"].iloc[-1:]])
        rows["train"] = rows["train"].iloc[:-1]
    preprocessor.fit(rows["train"])
    parts = {
        # A few held-out rows hold rare values the training rows lack: "unknown", silently.
        name: (preprocessor.transform(frame, warn=False), preprocessor.targets(frame))
        for name, frame in rows.items()
    }
    return TableData(
        parts["train"],
        parts["val"],
        parts["test"],
        class_names=list(preprocessor.class_names or []),
        input_shape=(parts["train"][0].shape[1],),
        preprocessor=preprocessor,
        frames={name: frame.drop(columns=[config.target]) for name, frame in rows.items()},
        raw_targets={
            name: np.asarray(frame[config.target], dtype=object if classify else np.float64)
            for name, frame in rows.items()
        },
        log_target=config.log_target,
    )


# -- the recipe ----------------------------------------------------------------------------------
def build(config: Config) -> Experiment:
    """Data, model and training set-up for this config."""
    data = prepare(config)
    preprocessor = data.preprocessor
    classify = preprocessor.task == "classification"
    outputs = len(data.class_names) if classify else 1
    if config.model == "mlp":
        network = tabular.TabularMLP.from_preprocessor(
            preprocessor, outputs, hidden=tuple(config.hidden), dropout=config.dropout
        )
    else:
        network = tabular.FTTransformer.from_preprocessor(
            preprocessor,
            outputs,
            d_token=config.d_token,
            layers=config.layers,
            heads=config.heads,
            dropout=config.dropout,
        )
    model = models.Model(network)
    model.compile(
        optimizer=optimizers.AdamW(
            learning_rate=schedules.CosineDecay(config.learning_rate),
            weight_decay=config.weight_decay,
        ),
        loss="sparse_categorical_crossentropy" if classify else "mse",
        from_logits=True,  # both networks end in a Linear layer
        metrics=["accuracy"] if classify else [],
        device=config.device,
    )

    def save_predictor(run_dir: Path) -> list[Any]:
        def on_train_end(logs: Any = None) -> None:
            tabular.TablePredictor(preprocessor, network).save(run_dir / PREDICTOR_FOLDER)

        return [LambdaCallback(on_train_end=on_train_end)]

    return Experiment(
        network=network,
        trainer=model.trainer,
        data=data,
        batch_size=config.batch_size,
        seed=config.seed,
        predict=None if classify else network,
        evaluation="classification" if classify else "custom",
        evaluator=None if classify else evaluate_regression,
        best_by=None if classify else "loss",
        run_callbacks=save_predictor,
    )


def evaluate_regression(experiment: Experiment, split: str, out_dir: Path) -> dict[str, float]:
    """RMSE of the log target (with ``log_target``), RMSE, MAE and R² in the target's units, for
    the network and for gradient boosting fitted on the same training rows; draw both.

    Example (what ``ember evaluate RUN`` does with a finished ``tabular-ames`` run):
        >>> from ember.runs import training
        >>> experiment, _ = training.load_experiment(run)  # doctest: +SKIP
        >>> metrics = evaluate_regression(experiment, "test", run / "evaluation" / "test")  # doctest: +SKIP
        >>> sorted(metrics)[:3]  # doctest: +SKIP
        ['boosting_mae', 'boosting_r2', 'boosting_rmse']
    """
    data: TableData = experiment.data
    x, _ = data.split(split)
    with torch.inference_mode():
        output = experiment.network.eval()(x.to(experiment.trainer.device))
    network, truth = data.values(output), data.raw_targets[split]
    boosting = fit_boosting(data, "regression").predict(boosting_inputs(data.frames[split]))
    if data.log_target:  # both learned log(target) (boosting predicts logs): score on logs
        network, truth = np.log(network), np.log(truth)
    metrics: dict[str, float] = {}
    for prefix, predicted in (("", network), ("boosting_", boosting)):
        metrics.update(regression_metrics(predicted, truth, data.log_target, prefix))
    plot_predictions(
        {"network": network, "gradient boosting": boosting},
        truth,
        data.log_target,
        Path(out_dir) / "predicted_vs_true.png",
        f"{split} rows: predicted against true",
    )
    return metrics


def regression_metrics(
    predicted: np.ndarray, truth: np.ndarray, log_target: bool, prefix: str = ""
) -> dict[str, float]:
    """RMSE, MAE and R² in the target's units (and ``log_rmse`` when both are logs).

    Example:
        >>> m = regression_metrics(np.array([1.0, 3.0]), np.array([1.0, 2.0]), False)
        >>> round(m["rmse"], 4), m["mae"], m["r2"]
        (0.7071, 0.5, -1.0)
    """
    metrics = {}
    if log_target:
        metrics[f"{prefix}log_rmse"] = float(np.sqrt(np.mean((predicted - truth) ** 2)))
        predicted, truth = np.exp(predicted), np.exp(truth)
    errors = predicted - truth
    metrics[f"{prefix}rmse"] = float(np.sqrt(np.mean(errors**2)))
    metrics[f"{prefix}mae"] = float(np.mean(np.abs(errors)))
    metrics[f"{prefix}r2"] = float(1.0 - np.sum(errors**2) / np.sum((truth - truth.mean()) ** 2))
    return metrics


# -- the gradient-boosting baseline ----------------------------------------------------------------
def boosting_inputs(frame: Any) -> Any:
    """Rows as HistGradientBoosting reads them: numbers as float64 (NaN for missing), text and
    categories as pandas categoricals (its native categorical support)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype.kind in "ObU" or str(frame[column].dtype) == "string":
            frame[column] = frame[column].astype("category")
        elif str(frame[column].dtype) != "category":
            frame[column] = frame[column].astype("float64")
    return frame


def fit_boosting(data: TableData, task: str, seed: int = 0) -> Any:
    """scikit-learn's HistGradientBoosting (defaults, native categories) on the training rows."""
    kind = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    targets = data.raw_targets["train"]
    if data.log_target:  # the same target the network learns; predictions are then logs
        targets = np.log(targets)
    return kind(categorical_features="from_dtype", random_state=seed).fit(
        boosting_inputs(data.frames["train"]), targets
    )


def plot_predictions(
    predictions: dict[str, np.ndarray], truth: np.ndarray, log_scale: bool, path: Path, title: str
) -> None:
    """Each model's predictions against the truth, on log axes for a log target; save a PNG.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.png"
        >>> plot_predictions({"a": np.array([1.0, 2.0])}, np.array([1.0, 2.5]), False, path, "t")
        >>> path.stat().st_size > 0
        True
    """
    if log_scale:
        predictions = {name: np.exp(values) for name, values in predictions.items()}
        truth = np.exp(truth)
    figure = new_figure(6, 6)
    axes = figure.add_subplot()
    for (name, values), marker in zip(predictions.items(), "o^sv"):
        rmse = float(np.sqrt(np.mean((values - truth) ** 2)))
        axes.scatter(
            truth, values, s=8, alpha=0.5, marker=marker, label=f"{name} (RMSE {rmse:,.0f})"
        )
    low, high = float(truth.min()), float(truth.max())
    axes.plot([low, high], [low, high], color="black", linewidth=1, label="perfect")
    if log_scale:
        axes.set_xscale("log")
        axes.set_yscale("log")
    for axis in (axes.xaxis, axes.yaxis):  # 150k, not 1.5x10^5 and crowded minor labels
        axis.set_major_formatter(EngFormatter(sep=""))
        axis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("true")
    axes.set_ylabel("predicted")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    save_figure(figure, path)
