"""Two CPU processes (gloo) train exactly what one process trains with the same global batch.

One spawn of two processes (``torch.multiprocessing``, with the variables torchrun would set)
runs every scenario; the reference is the same function run here, in one process.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from spawned_processes import act_as_torchrun_process, free_port
from torch import nn
from torch.utils.data import TensorDataset

import ember
from ember.errors import ConfigError, RunError
from ember.train import Objective, Task
from ember.train.distributed import check_devices, from_main_process, start_processes

WORLD_SIZE = 2


def dense_weights(module: nn.Module) -> dict[str, torch.Tensor]:
    """The module's weights as plain tensors (FSDP's are sharded DTensors: gathered whole)."""
    state = module.state_dict()
    return {
        k: (v.full_tensor() if hasattr(v, "full_tensor") else v).clone() for k, v in state.items()
    }


def classifier_run(strategy: str) -> dict:
    """An MLP on 37 samples in global batches of 8: the last batch (5) splits 3/2."""
    torch.manual_seed(0)
    network = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(37, 5, generator=generator), torch.randint(0, 3, (37,), generator=generator)
    task = ember.Supervised(
        network, "sparse_categorical_crossentropy", metrics=["accuracy"], from_logits=True
    )
    trainer = ember.Trainer(task, "adam", device="cpu", strategy=strategy)
    history = trainer.fit((x, y), (x[:11], y[:11]), epochs=3, batch_size=8, verbose=0)
    return {
        "weights": dense_weights(network),
        "history": history.history,
        "steps": trainer.global_step,
    }


class TwoObjectives(Task):
    """Two losses over two sub-modules, the second stepped every other step (a GAN's shape)."""

    def __init__(self) -> None:
        super().__init__(nn.ModuleDict({"first": nn.Linear(4, 1), "second": nn.Linear(4, 1)}))

    def objectives(self) -> list[Objective]:
        return [
            Objective("first_loss", self.module["first"], "sgd"),
            Objective("second_loss", self.module["second"], "adam", every=2),
        ]

    def training_step(self, batch, objective):
        x, y = batch
        prediction = self.module[objective.removesuffix("_loss")](x)
        return {objective: F.mse_loss(prediction, y)}


def two_objectives_run() -> dict:
    torch.manual_seed(0)
    task = TwoObjectives()
    generator = torch.Generator().manual_seed(2)
    x, y = torch.randn(32, 4, generator=generator), torch.randn(32, 1, generator=generator)
    trainer = ember.Trainer(task, device="cpu")
    history = trainer.fit((x, y), epochs=2, batch_size=8, verbose=0)
    return {"weights": dense_weights(task.module), "history": history.history}


def dataset_run() -> dict:
    """A Dataset (a DataLoader with a DistributedSampler per process), trained 2 epochs."""
    torch.manual_seed(0)
    network = nn.Linear(3, 1)
    generator = torch.Generator().manual_seed(3)
    dataset = TensorDataset(torch.randn(37, 3, generator=generator), torch.randn(37, 1))
    trainer = ember.Trainer(ember.Supervised(network, "mse"), "sgd", device="cpu")
    history = trainer.fit(dataset, epochs=2, batch_size=8, verbose=0)
    return {"weights": dense_weights(network), "steps": trainer.global_step, **history.history}


def main_process_error() -> str:
    """What every process catches when the main one fails inside from_main_process."""

    def make() -> str:
        raise RunError("the main process could not create the folder")

    try:
        from_main_process(make)
    except RunError as error:
        return str(error)
    return "nothing raised"


SCENARIOS = {
    "ddp": lambda: classifier_run("ddp"),
    "fsdp": lambda: classifier_run("fsdp"),
    "two_objectives": two_objectives_run,
    "dataset": dataset_run,
    "main_error": main_process_error,
}


def _worker(rank: int, port: int, out: str) -> None:
    act_as_torchrun_process(rank, WORLD_SIZE, port)
    results = {name: scenario() for name, scenario in SCENARIOS.items()}
    torch.save(results, os.path.join(out, f"rank{rank}.pt"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every scenario's results in each of two processes (by rank), and in this one alone."""
    out = tmp_path_factory.mktemp("distributed")
    processes = mp.start_processes(
        _worker, args=(free_port(), str(out)), nprocs=WORLD_SIZE, join=False
    )
    alone = {name: scenario() for name, scenario in SCENARIOS.items()}  # meanwhile, here
    while not processes.join():
        pass
    return [torch.load(out / f"rank{rank}.pt") for rank in range(WORLD_SIZE)], alone


@pytest.fixture(scope="module")
def two_processes(results):
    return results[0]


@pytest.fixture(scope="module")
def one_process(results):
    return results[1]


def assert_close_weights(actual: dict, expected: dict, atol: float = 1e-5) -> None:
    assert actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=0, atol=atol)


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_processes_end_with_the_weights_of_one(two_processes, one_process, strategy):
    reference = one_process[strategy]
    for rank in range(WORLD_SIZE):
        result = two_processes[rank][strategy]
        assert result["steps"] == reference["steps"] == 3 * 5  # ceil(37 / 8) global steps
        assert_close_weights(result["weights"], reference["weights"])
    moved = reference["weights"]["0.weight"] - classifier_initial_weight()
    assert moved.abs().max() > 1e-3  # the comparison is between trained weights


def classifier_initial_weight() -> torch.Tensor:
    torch.manual_seed(0)
    return nn.Linear(5, 16).weight.detach()


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_logged_losses_and_accuracy_are_those_of_one_process(two_processes, one_process, strategy):
    expected = one_process[strategy]["history"]
    assert set(expected) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for rank in range(WORLD_SIZE):
        logged = two_processes[rank][strategy]["history"]
        for name, values in expected.items():
            assert logged[name] == pytest.approx(values, abs=1e-6), name


def test_objectives_on_separate_modules_each_get_their_own_ddp(two_processes, one_process):
    expected = one_process["two_objectives"]
    for rank in range(WORLD_SIZE):
        result = two_processes[rank]["two_objectives"]
        assert_close_weights(result["weights"], expected["weights"])
        assert result["history"]["second_loss"] == pytest.approx(
            expected["history"]["second_loss"], abs=1e-6
        )


def test_a_dataset_is_split_by_a_sampler_and_the_processes_stay_in_step(two_processes):
    first, second = (two_processes[rank]["dataset"] for rank in range(WORLD_SIZE))
    # 37 samples padded to 38 by the sampler: 19 each, in batches of 8 / 2 = 4, 5 an epoch
    assert first["steps"] == second["steps"] == 2 * 5
    assert_close_weights(first["weights"], second["weights"], atol=0)
    assert first["loss"] == second["loss"]  # the epoch's mean over both processes


def test_an_error_in_the_main_process_is_raised_in_every_process(two_processes):
    for rank in range(WORLD_SIZE):
        assert two_processes[rank]["main_error"] == "the main process could not create the folder"


# -- errors before any process group exists -----------------------------------------------------
def test_devices_beyond_one_outside_torchrun_says_how_to_launch(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    task = ember.Supervised(nn.Linear(2, 1), "mse")
    with pytest.raises(ConfigError, match=r"torchrun --nproc-per-node 2 script.py.*--devices 2"):
        ember.Trainer(task, device="cpu", devices=2)


def test_an_unknown_strategy_lists_the_known_ones():
    task = ember.Supervised(nn.Linear(2, 1), "mse")
    with pytest.raises(ConfigError, match=r"unknown strategy 'deepspeed'.*'ddp'.*'fsdp'"):
        ember.Trainer(task, device="cpu", strategy="deepspeed")


@pytest.mark.parametrize("devices", [0, -1, 1.5, "two", True])
def test_devices_must_be_auto_or_a_positive_count(devices):
    with pytest.raises(ConfigError, match=r"expected a positive integer, received devices="):
        start_processes(devices, "ddp", "cpu")


def test_more_gpus_than_the_machine_has_is_an_error_naming_the_count(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match=r"devices=2 .* this machine has 1 CUDA GPU"):
        check_devices(2, "cuda")


def test_more_cpu_processes_than_cores_is_a_warning_naming_the_count(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.warns(UserWarning, match=r"devices=3 starts 3 CPU processes on a machine with 2"):
        assert check_devices(3, "cpu") == 3


def test_devices_other_than_torchruns_processes_are_refused(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match=r"devices=3 does not match the 2 processes torchrun"):
        start_processes(3, "ddp", "cpu")
