"""The learning-rate range test: exponential lrs, a sane suggestion, and no trace left behind."""

from __future__ import annotations

import math

import matplotlib
import pytest
import torch

from ember import optimizers
from ember.errors import ConfigError
from ember.models.lr_finder import LRFinderResult, find_learning_rate, valley_learning_rate
from ember.train import Task
from ember.train.trainer import Trainer

matplotlib.use("Agg")


class _RegressionTask(Task):
    """The smallest task the engine accepts: a module and a loss per batch."""

    def training_step(self, batch):
        x, y = batch
        return {"loss": torch.nn.functional.mse_loss(self.module(x), y)}


def _problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(512, 1, generator=generator)
    torch.manual_seed(seed)
    module = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return module, x, y


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _assert_bitwise_equal(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for name in before:
        assert torch.equal(before[name], after[name]), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_suggestion_is_sane_and_weights_are_restored_bitwise(seed):
    module, x, y = _problem(seed)
    before = _state(module)
    rng_before = torch.get_rng_state()
    result = find_learning_rate(_RegressionTask(module), (x, y), optimizer="sgd", device="cpu")
    assert 1e-3 <= result.suggestion <= 1.0
    _assert_bitwise_equal(before, module.state_dict())
    assert torch.equal(torch.get_rng_state(), rng_before)  # RNG state restored too
    assert module.training  # mode restored


def test_learning_rates_grow_exponentially_from_start_lr():
    module, x, y = _problem()
    result = find_learning_rate(
        _RegressionTask(module),
        (x, y),
        optimizer="sgd",
        start_lr=1e-5,
        end_lr=1e-2,
        num_steps=40,
        device="cpu",
    )
    lrs = result.learning_rates
    assert len(lrs) == 40  # no divergence below 1e-2: runs all steps, over several epochs
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(1e-2)
    ratios = [b / a for a, b in zip(lrs, lrs[1:], strict=False)]
    assert ratios == pytest.approx([1000 ** (1 / 39)] * 39)
    assert len(result.losses) == len(result.raw_losses) == 40


def test_stops_once_the_loss_diverges():
    module, x, y = _problem()
    result = find_learning_rate(
        _RegressionTask(module), (x, y), optimizer="sgd", end_lr=100.0, num_steps=200, device="cpu"
    )
    assert len(result.losses) < 200
    last = result.losses[-1]
    assert not math.isfinite(last) or last > 4.0 * min(result.losses)


def test_smoothed_loss_is_the_bias_corrected_moving_average():
    module, x, y = _problem()
    result = find_learning_rate(
        _RegressionTask(module), (x, y), optimizer="sgd", num_steps=10, smooth=0.9, device="cpu"
    )
    average = 0.0
    for step, (raw, smoothed) in enumerate(zip(result.raw_losses, result.losses, strict=True)):
        average = 0.9 * average + 0.1 * raw
        assert smoothed == pytest.approx(average / (1 - 0.9 ** (step + 1)))


def test_trainer_optimizer_state_and_lr_are_restored():
    module, x, y = _problem()
    trainer = Trainer(
        _RegressionTask(module), optimizers.SGD(0.05, momentum=0.9), epochs=1, device="cpu"
    )
    trainer.fit((x, y), batch_size=64, verbose=0)  # the optimizer now has momentum buffers
    weights = _state(module)
    state = trainer.optimizer.state_dict()["state"]
    buffers = {index: entry["momentum_buffer"].clone() for index, entry in state.items()}
    result = find_learning_rate(trainer, (x, y), num_steps=30)
    assert len(result.learning_rates) > 0
    _assert_bitwise_equal(weights, module.state_dict())
    state = trainer.optimizer.state_dict()
    for index, buffer in buffers.items():
        assert torch.equal(state["state"][index]["momentum_buffer"], buffer)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.05


def test_works_with_a_supervised_task_and_a_schedule():
    from ember.schedules import OneCycle
    from ember.tasks.supervised import Supervised

    module, x, y = _problem()
    task = Supervised(module, "mse")
    spec = optimizers.Adam(learning_rate=OneCycle(0.1))  # the schedule is ignored for the test
    result = find_learning_rate(task, (x, y), optimizer=spec, num_steps=30, device="cpu")
    assert result.learning_rates[0] == pytest.approx(1e-7)
    assert len(result.learning_rates) <= 30


def test_plot_writes_a_png_with_log_axis(tmp_path):
    module, x, y = _problem()
    result = find_learning_rate(_RegressionTask(module), (x, y), optimizer="sgd", device="cpu")
    path = tmp_path / "plots" / "lr.png"
    figure = result.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    assert figure.axes[0].get_xscale() == "log"
    assert list(tmp_path.joinpath("plots").iterdir()) == [path]  # no temporary file left

    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    assert result.plot(ax=ax) is figure
    plt.close(figure)


def test_valley_suggestion_lies_inside_the_descent():
    lrs = [10 ** (k / 10 - 7) for k in range(80)]  # 1e-7 .. ~1e1
    # Flat, then falls between 1e-3 and 1e-1, then explodes.
    losses = [1.0 - 0.8 / (1 + math.exp(-3 * (math.log10(lr) + 2))) + (lr > 1) * lr for lr in lrs]
    suggestion = valley_learning_rate(lrs, losses)
    assert 1e-4 < suggestion < 1e-1
    assert LRFinderResult(lrs, losses, losses).suggestion == suggestion
    assert valley_learning_rate(lrs[:4], losses[:4]) is None


def test_invalid_arguments_raise():
    module, x, y = _problem()
    task = _RegressionTask(module)
    with pytest.raises(ConfigError, match="received start_lr=0"):
        find_learning_rate(task, (x, y), start_lr=0)
    with pytest.raises(ConfigError, match="expected end_lr > start_lr"):
        find_learning_rate(task, (x, y), start_lr=1.0, end_lr=0.1)
    with pytest.raises(ConfigError, match="received num_steps=1"):
        find_learning_rate(task, (x, y), num_steps=1)


def test_accepts_a_compiled_model_and_restores_its_weights():
    import ember
    from ember import layers

    torch.manual_seed(0)
    model = ember.Sequential([layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    _, x, y = _problem()
    model.fit(x, y, epochs=1, verbose=0)
    before = _state(model)
    result = find_learning_rate(model, (x, y), num_steps=50)
    assert len(result.learning_rates) <= 50
    _assert_bitwise_equal(before, model.state_dict())
