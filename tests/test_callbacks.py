"""ember.callbacks, driven through a real Trainer on a tiny regression task."""

from __future__ import annotations

import csv
import math
import random
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ember.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from ember.errors import ConfigError, SaveError
from ember.train import Task
from ember.train.trainer import Trainer

BATCHES_PER_EPOCH = 4  # 64 samples in batches of 16


class Regression(Task):
    """A tiny task: mean squared error of a linear layer (no metrics)."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def training_step(self, batch):
        x, y = batch
        return {"loss": F.mse_loss(self.module(x), y)}

    validation_step = training_step


def make_data(samples: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(samples, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(
        samples, 1, generator=generator
    )
    return x, y


def make_trainer(callbacks, epochs=10, lr=0.1, task=None) -> Trainer:
    torch.manual_seed(0)
    return Trainer(
        task or Regression(nn.Linear(3, 1)),
        optimizer=lambda params: torch.optim.SGD(params, lr=lr),
        epochs=epochs,
        callbacks=callbacks,
        device="cpu",
    )


def fit(callbacks, epochs=10, validation=True, lr=0.1, task=None):
    trainer = make_trainer(callbacks, epochs, lr, task)
    data = make_data()
    history = trainer.fit(data, data if validation else None, batch_size=16, verbose=0)
    return trainer, history


def fake_curve(name: str, values: list[float]) -> LambdaCallback:
    """Writes ``values[epoch]`` into the epoch logs as ``name``: a monitored curve we choose."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({name: values[epoch]}))


class WeightSnapshots(Callback):
    """Keeps a copy of the weights at the end of every epoch."""

    def __init__(self) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append({k: v.clone() for k, v in self.model.state_dict().items()})


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- EarlyStopping ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "options", "stopped_epoch"),
    [
        # min: best at epoch 1, then two epochs without improvement
        ([1.0, 0.8, 0.9, 0.85, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2], {"patience": 2}, 3),
        # improvements of 0.01 are below min_delta=0.1: stops at the first one
        ([1.0 - 0.01 * i for i in range(10)], {"patience": 1, "min_delta": 0.1}, 1),
        # ... and without min_delta they count: training runs to the end
        ([1.0 - 0.01 * i for i in range(10)], {"patience": 1}, 0),
        # max, chosen explicitly
        ([0.5, 0.6, 0.55, 0.58, 0.59, 0.9, 1, 1, 1, 1], {"patience": 3, "mode": "max"}, 4),
        # never beating the baseline: patience counts from the first epoch
        ([0.9, 0.95, 0.93, 0.97, 1, 1, 1, 1, 1, 1], {"patience": 2, "baseline": 0.5}, 1),
        ([0.9, 0.95, 0.93, 0.97, 1, 1, 1, 1, 1, 1], {"patience": 2}, 2),
        # the first three epochs are a warm-up, not watched
        ([1.0, 2.0, 3.0, 4.0, 5.0, 4.5, 6, 7, 8, 9], {"start_from_epoch": 3}, 4),
    ],
)
def test_early_stopping_stops_at_the_right_epoch(values, options, stopped_epoch):
    stop = EarlyStopping(monitor="score", **options)
    _, history = fit([fake_curve("score", values), stop], epochs=10)
    assert stop.stopped_epoch == stopped_epoch
    assert len(history.epoch) == (stopped_epoch + 1 if stopped_epoch else 10)


def test_early_stopping_maximises_accuracy_in_auto_mode():
    values = [0.5, 0.6, 0.55, 0.58, 0.59, 0.9, 1, 1, 1, 1]
    stop = EarlyStopping(monitor="val_accuracy", patience=3)
    fit([fake_curve("val_accuracy", values), stop])
    assert (stop.mode, stop.stopped_epoch, stop.best, stop.best_epoch) == ("max", 4, 0.6, 1)
    assert EarlyStopping(monitor="val_loss").mode == "min"


def test_early_stopping_restores_best_weights():
    snapshots = WeightSnapshots()
    stop = EarlyStopping(monitor="score", patience=3, restore_best_weights=True)
    trainer, _ = fit(
        [fake_curve("score", [1.0, 0.5, 0.7, 0.8, 0.9, 1, 1, 1, 1, 1]), stop, snapshots]
    )
    assert (stop.stopped_epoch, stop.best_epoch) == (4, 1)
    weights = trainer.model.state_dict()
    assert same_weights(weights, snapshots.weights[1])
    assert not same_weights(weights, snapshots.weights[4])


def test_early_stopping_restores_best_weights_when_training_runs_to_the_end():
    snapshots = WeightSnapshots()
    stop = EarlyStopping(monitor="score", patience=10, restore_best_weights=True)
    trainer, _ = fit([fake_curve("score", [1.0, 0.3, 0.5, 0.6]), stop, snapshots], epochs=4)
    assert stop.stopped_epoch == 0
    assert same_weights(trainer.model.state_dict(), snapshots.weights[1])


def test_early_stopping_keeps_last_weights_without_restore():
    snapshots = WeightSnapshots()
    stop = EarlyStopping(monitor="score", patience=1)
    trainer, _ = fit([fake_curve("score", [1.0, 0.3, 0.5, 0.6]), stop, snapshots], epochs=4)
    assert stop.best_weights is None
    assert same_weights(trainer.model.state_dict(), snapshots.weights[2])


def test_early_stopping_missing_monitor_fails_at_the_first_epoch():
    epochs_started = []
    record = LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs_started.append(epoch))
    with pytest.raises(ConfigError, match=r"'val_loss'.*available: \['loss'\].*validation"):
        fit([record, EarlyStopping(monitor="val_loss")], validation=False)
    assert epochs_started == [0]


def test_early_stopping_rejects_bad_arguments():
    with pytest.raises(ConfigError, match="mode='auto', 'min' or 'max'"):
        EarlyStopping(mode="maximum")
    with pytest.raises(ConfigError, match="patience=-1"):
        EarlyStopping(patience=-1)


# -- ModelCheckpoint ----------------------------------------------------------------------------
def test_model_checkpoint_save_best_only_writes_on_improvement(tmp_path):
    from ember.saving import load_weights

    snapshots = WeightSnapshots()
    checkpoint = ModelCheckpoint(
        tmp_path / "ckpt" / "w-{epoch:02d}-{score:.2f}.safetensors",
        monitor="score",
        save_best_only=True,
        save_weights_only=True,
    )
    values = [1.0, 0.8, 0.9, 0.7, 0.75]
    fit([fake_curve("score", values), checkpoint, snapshots], epochs=5)
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["w-01-1.00.safetensors", "w-02-0.80.safetensors", "w-04-0.70.safetensors"]
    assert checkpoint.best == 0.7
    restored = nn.Linear(3, 1)
    load_weights(restored, tmp_path / "ckpt" / "w-04-0.70.safetensors")
    assert same_weights(restored.state_dict(), snapshots.weights[3])


def test_model_checkpoint_fixed_path_holds_the_best_epoch(tmp_path):
    from ember.saving import load_weights

    snapshots = WeightSnapshots()
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)
    fit([fake_curve("val_accuracy", [0.5, 0.9, 0.7, 0.8]), checkpoint, snapshots], epochs=4)
    restored = nn.Linear(3, 1)
    load_weights(restored, path)
    assert same_weights(restored.state_dict(), snapshots.weights[1])
    assert [p.name for p in tmp_path.iterdir()] == ["best.safetensors"]


def test_model_checkpoint_saves_every_n_batches(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "b-{epoch}-{batch}.safetensors", save_freq=2)
    fit([checkpoint], epochs=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"b-{e}-{b}.safetensors" for e in (1, 2) for b in (2, 4)]


class SavesItself(nn.Linear):
    """A module with a Keras-style ``save`` (as Sequential has), recording where it saved."""

    def __init__(self) -> None:
        super().__init__(3, 1)
        self.saved: list[str] = []

    def save(self, path: str) -> None:
        self.saved.append(path)


def test_model_checkpoint_uses_the_model_save(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "model-{epoch}")
    weights = ModelCheckpoint(tmp_path / "weights-{epoch}.safetensors")
    torch.manual_seed(0)
    module = SavesItself()
    trainer = make_trainer([checkpoint, weights], epochs=3, task=Regression(module))
    saved = module.saved
    trainer.fit(make_data(), batch_size=16, verbose=0)
    assert saved == [str(tmp_path / f"model-{epoch}") for epoch in (1, 2, 3)]
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == [
        f"weights-{epoch}.safetensors" for epoch in (1, 2, 3)
    ]


def test_model_checkpoint_bad_format_key_lists_the_logs(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{val_acc:.2f}.safetensors")
    with pytest.raises(ConfigError, match=r"'epoch'.*\['loss', 'val_loss'\]"):
        fit([checkpoint])


def test_model_checkpoint_checks_the_folder_at_construction(tmp_path):
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(SaveError, match="is a file"):
        ModelCheckpoint(tmp_path / "file.txt" / "{epoch}" / "w.safetensors")
    with pytest.raises(ConfigError, match="save_freq=0"):
        ModelCheckpoint(tmp_path / "w.safetensors", save_freq=0)


# -- learning-rate callbacks --------------------------------------------------------------------
class LearningRateSeen(Callback):
    """The learning rate the optimizer used in each batch."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_batch_start(self, batch, logs=None):
        self.rates.append(self.trainer.optimizer.param_groups[0]["lr"])


def logged(name: str, into: list) -> LambdaCallback:
    return LambdaCallback(on_epoch_end=lambda epoch, logs: into.append(logs[name]))


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    seen, logged_rates = LearningRateSeen(), []
    scheduler = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    trainer, _ = fit([scheduler, seen, logged("learning_rate", logged_rates)], epochs=3)
    assert seen.rates == [0.05] * 4 + [0.025] * 4 + [0.0125] * 4
    assert logged_rates == [0.05, 0.025, 0.0125]
    assert trainer.optimizer.param_groups[0]["lr"] == 0.0125


def test_learning_rate_scheduler_accepts_a_one_argument_schedule():
    logged_rates = []
    scheduler = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    fit([scheduler, logged("learning_rate", logged_rates)], epochs=3)
    assert logged_rates == [0.1, 0.05, 0.1 / 3]


def test_learning_rate_scheduler_rejects_a_bad_rate():
    with pytest.raises(ConfigError, match="non-negative float, received 'fast'"):
        fit([LearningRateScheduler(lambda epoch, lr: "fast")])


def test_reduce_lr_on_plateau_reduces_after_patience():
    logged_rates = []
    reduce = ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_delta=0)
    fit([fake_curve("score", [1.0] * 6), reduce, logged("learning_rate", logged_rates)], epochs=6)
    # the rate logged is the one used in that epoch; each drop takes effect in the next one
    assert logged_rates == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]


def keras_reduce_lr_on_plateau(values, lr, factor, patience, min_delta, cooldown, min_lr):
    """Keras 3's ReduceLROnPlateau (mode min), as a reference: the rate after each epoch."""
    best, wait, cooldown_counter, rates = math.inf, 0, 0, []
    for current in values:
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        if current < best - min_delta:
            best, wait = current, 0
        elif cooldown_counter == 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr)
                cooldown_counter, wait = cooldown, 0
        rates.append(lr)
    return rates


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
@pytest.mark.parametrize("cooldown", [0, 1, 2, 3])
def test_reduce_lr_on_plateau_matches_keras(patience, cooldown):
    rng = random.Random(patience * 10 + cooldown)
    values = [rng.choice([1.0, 0.9, 0.8, 0.95]) - 0.002 * i for i in range(60)]
    options = dict(factor=0.5, patience=patience, min_delta=0.01, cooldown=cooldown, min_lr=1e-3)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    reduce = ReduceLROnPlateau(monitor="score", **options)
    reduce.set_trainer(SimpleNamespace(optimizer=optimizer, scheduler=None))
    reduce.on_fit_start({})
    rates = []
    for epoch, value in enumerate(values):
        reduce.on_epoch_end(epoch, {"score": value})
        rates.append(optimizer.param_groups[0]["lr"])
    expected = keras_reduce_lr_on_plateau(values, 0.1, **options)
    assert rates == pytest.approx(expected, rel=1e-12)
    assert len(set(rates)) > 2  # the sequence does exercise several reductions


def test_reduce_lr_on_plateau_rejects_a_factor_of_one():
    with pytest.raises(ConfigError, match="0 < factor < 1"):
        ReduceLROnPlateau(factor=1.0)


# -- logging ------------------------------------------------------------------------------------
def read_csv(path, separator=","):
    with open(path, newline="") as file:
        return list(csv.reader(file, delimiter=separator))


def test_csv_logger_writes_keras_rows(tmp_path):
    path = tmp_path / "logs" / "training.csv"
    _, history = fit([CSVLogger(path)], epochs=3)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [int(row[0]) for row in rows[1:]] == [0, 1, 2]
    assert [float(row[1]) for row in rows[1:]] == history.history["loss"]
    assert [float(row[2]) for row in rows[1:]] == history.history["val_loss"]


def test_csv_logger_appends_and_overwrites(tmp_path):
    path = tmp_path / "training.csv"
    fit([CSVLogger(path, separator=";")], epochs=2)
    fit([CSVLogger(path, separator=";", append=True)], epochs=3)
    rows = read_csv(path, ";")
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "0", "1", "2"]
    fit([CSVLogger(path, separator=";")], epochs=1)
    assert len(read_csv(path, ";")) == 2


def test_tensorboard_writes_keras_scalars(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    batch_losses = []
    record = LambdaCallback(
        on_batch_end=lambda batch, logs: batch_losses.append(float(logs["loss"].detach()))
    )
    _, history = fit([record, TensorBoard(tmp_path, update_freq=2)], epochs=3)

    train = EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    validation = EventAccumulator(str(tmp_path / "validation"))
    validation.Reload()

    def scalars(events, tag):
        return [(e.step, e.value) for e in events.Scalars(tag)]

    assert scalars(train, "epoch_loss") == [
        (epoch, pytest.approx(value, rel=1e-6))
        for epoch, value in enumerate(history.history["loss"])
    ]
    assert scalars(validation, "epoch_loss") == [
        (epoch, pytest.approx(value, rel=1e-6))
        for epoch, value in enumerate(history.history["val_loss"])
    ]
    assert scalars(train, "epoch_learning_rate") == [(e, pytest.approx(0.1)) for e in range(3)]
    assert scalars(train, "batch_loss") == [
        (step, pytest.approx(batch_losses[step - 1], rel=1e-6)) for step in range(2, 13, 2)
    ]
    assert "epoch_learning_rate" not in validation.Tags()["scalars"]


# -- small ones ---------------------------------------------------------------------------------
class BreaksAtStep(Regression):
    """Returns a non-finite loss from the given training step on."""

    def __init__(self, module, step, value):
        super().__init__(module)
        self.step, self.value, self.calls = step, value, 0

    def training_step(self, batch):
        outputs = super().training_step(batch)
        self.calls += 1
        if self.calls > self.step:
            outputs["loss"] = outputs["loss"] * self.value
        return outputs


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_terminate_on_nan_stops_training(value, capsys):
    task = BreaksAtStep(nn.Linear(3, 1), step=5, value=value)
    trainer, history = fit([TerminateOnNaN()], epochs=10, task=task)
    assert trainer.global_step == 6  # the sixth step (epoch 1, batch 1) is the first bad one
    assert len(history.epoch) == 2
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_fires_keras_hooks():
    events = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: events.append("batch_begin"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch_end {batch}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    fit([callback], epochs=2)
    epoch = [
        event
        for batch in range(BATCHES_PER_EPOCH)
        for event in ("batch_begin", f"batch_end {batch}")
    ]
    assert events == [
        "train_begin",
        "epoch_begin 0",
        *epoch,
        "epoch_end 0",
        "epoch_begin 1",
        *epoch,
        "epoch_end 1",
        "train_end",
    ]


def test_lambda_callback_accepts_ember_names():
    starts = []
    fit([LambdaCallback(on_fit_start=lambda logs: starts.append(1))], epochs=1)
    assert starts == [1]


def test_lambda_callback_takes_every_keras_hook_name_with_keras_logs():
    steps, running, tests, ends = [], [], [], []
    record = LambdaCallback(
        on_batch_end=lambda batch, logs: steps.append(logs["loss"].item()),
        on_train_batch_end=lambda batch, logs: running.append(float(logs["loss"])),
        on_test_batch_end=lambda batch, logs: tests.append(batch),
        on_train_end=lambda logs: ends.append(dict(logs)),
    )
    _, history = fit([record], epochs=1)
    # Keras' batch-end logs hold the epoch's running mean; ember's on_batch_end the step's loss.
    means = [sum(steps[: i + 1]) / (i + 1) for i in range(len(steps))]
    assert running == pytest.approx(means, rel=1e-6) and len(steps) == 4
    assert tests == [0, 1, 2, 3]  # fit's validation runs Keras' test hooks too
    assert ends[0]["loss"] == pytest.approx(history.history["loss"][-1])


def test_lambda_callback_refuses_unknown_names_and_two_functions_for_one_moment():
    with pytest.raises(ConfigError, match="no hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(ConfigError, match="two functions for one moment"):
        LambdaCallback(on_batch_begin=print, on_train_batch_begin=print)
