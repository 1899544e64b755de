"""Metrics logged over two processes are the metrics of all the epoch's samples (issue #22).

One spawn of two CPU processes (gloo) runs every scenario. The processes hold different numbers
of rows with different class mixes, so each process's F1, AUC or R² is far from the whole
data's; the reference is ``torchmetrics.functional`` on all the rows, here in one process.
"""

from __future__ import annotations

# ember first: its import hook lets torchmetrics import torchvision in the spawned processes,
# which import this module without conftest.
import ember

# isort: split
import os
import time

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F
import torchmetrics.classification as TMC_objects
import torchmetrics.functional as TMF
import torchmetrics.functional.classification as TMC
import torchmetrics.regression as TMR
from spawned_processes import act_as_torchrun_process, free_port
from torch import nn

from ember.callbacks import Callback
from ember.metrics import MetricSet, TopKAccuracy
from ember.train.distributed import is_main_process, start_processes, synced_logs

WORLD_SIZE = 2
ATOL = 1e-6


# -- each process's rows: different sizes and class mixes ---------------------------------------
def classes_part(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """3-class logits and labels: 30 rows mostly of classes 0/1 (rank 0), 13 mostly of 2."""
    generator = torch.Generator().manual_seed(10 + rank)
    rows, mix = [(30, [0.6, 0.35, 0.05]), (13, [0.1, 0.2, 0.7])][rank]
    labels = torch.multinomial(torch.tensor(mix), rows, replacement=True, generator=generator)
    logits = torch.randn(rows, 3, generator=generator) + 1.5 * F.one_hot(labels, 3)
    return logits, labels


def values_part(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two regression outputs: 20 rows (rank 0), and 7 whose targets are shifted by 3."""
    generator = torch.Generator().manual_seed(20 + rank)
    rows = (20, 7)[rank]
    targets = torch.randn(rows, 2, generator=generator) + 3.0 * rank
    return targets + 0.5 * torch.randn(rows, 2, generator=generator), targets


def sequences_part(rank: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Binary logits per step of 6 (rank 0) or 3 sequences of up to 5 steps, with masks."""
    generator = torch.Generator().manual_seed(30 + rank)
    rows = (6, 3)[rank]
    labels = (torch.rand(rows, 5, generator=generator) < (0.3, 0.8)[rank]).float()
    logits = torch.randn(rows, 5, generator=generator) + 2.0 * labels - 1.0
    lengths = torch.randint(1, 6, (rows,), generator=generator)
    return logits, labels, torch.arange(5)[None, :] < lengths[:, None]


def classification_metrics(torchmetrics_objects: bool = True) -> MetricSet:
    specs = ["accuracy", "f1", "precision", "recall_macro", "auc", "f1_per_class", TopKAccuracy(2)]
    if torchmetrics_objects:
        specs += [TMC_objects.MulticlassF1Score(3), TMC_objects.MulticlassAUROC(3)]
    return MetricSet(specs, kind="multiclass", num_outputs=3, from_logits=True)


def regression_metrics() -> MetricSet:
    specs = ["r2", "mae", "mse", TMR.R2Score()]
    return MetricSet(specs, kind="regression", num_outputs=2, from_logits=False)


def sequence_metrics() -> MetricSet:
    return MetricSet(["accuracy", "auc", "f1"], kind="binary", num_outputs=1, from_logits=True)


def fed(metrics: MetricSet, parts: list[tuple], batch: int) -> tuple[MetricSet, list]:
    """``metrics`` updated with ``parts`` in batches of ``batch`` rows; the engine's records."""
    records = []
    for part in parts:
        for start in range(0, len(part[0]), batch):
            rows = [tensor[start : start + batch] for tensor in part]
            metrics.update(*rows)
            records.append(({"loss": rows[0].float().mean()}, len(rows[0])))
    return metrics, records


def synced_metric_sets(rank: int) -> dict:
    """Each metric set of this process's rows, logged over both processes by synced_logs."""
    processes, _ = start_processes("auto", "ddp", "cpu")
    sets = {
        "classes": fed(classification_metrics(), [classes_part(rank)], batch=16),
        "values": fed(regression_metrics(), [values_part(rank)], batch=8),
        "sequences": fed(sequence_metrics(), [sequences_part(rank)], batch=4),
        # Rank 1 holds no sample of this one: the logs are rank 0's rows alone. (torchmetrics
        # objects cannot sync 2-D states from a process without any: docs/distributed.md.)
        "empty_part": fed(
            classification_metrics(torchmetrics_objects=False),
            [classes_part(0)] if rank == 0 else [],
            batch=16,
        ),
    }
    return {
        name: synced_logs(records, metrics, processes) for name, (metrics, records) in sets.items()
    }


# -- the engine: fit's validation split over the processes, evaluate in one ---------------------
def classifier_data() -> tuple:
    """40 training rows; 23 validation rows, whose rows each process validates (batches of 8
    split 4/4, the last 4/3) have the class mixes of classes_part."""
    generator = torch.Generator().manual_seed(40)
    x, y = torch.randn(40, 5, generator=generator), torch.randint(0, 3, (40,), generator=generator)
    rank_of_row = torch.arange(23) % 8 >= 4
    mixes = torch.tensor([[0.6, 0.35, 0.05], [0.1, 0.2, 0.7]])[rank_of_row.long()]
    y_val = torch.multinomial(mixes, 1, generator=generator).reshape(-1)
    x_val = torch.randn(23, 5, generator=generator) + F.one_hot(y_val, 5)
    return x, y, x_val, y_val


def classifier_network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))


class FirstBatchF1(Callback):
    """Reads the torchmetrics F1 after the first step: this process's rows only (no sync)."""

    value: float | None = None

    def on_train_batch_end(self, batch, logs=None):
        if self.value is None:
            self.value = float(logs["multiclass_f1_score"])


def classifier_fit() -> dict:
    network = classifier_network()
    x, y, x_val, y_val = classifier_data()
    specs = ["accuracy", "f1", "auc", TMC_objects.MulticlassF1Score(3)]
    task = ember.Supervised(network, "sparse_categorical_crossentropy", specs, from_logits=True)
    trainer = ember.Trainer(task, "adam", device="cpu")
    first = FirstBatchF1()
    # Only the main process reads metrics per step (as a progress display would).
    callbacks = [first] if is_main_process() else []
    history = trainer.fit(
        (x, y),
        (x_val, y_val),
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return {
        "trainer": trainer,
        "history": history.history,
        "weights": {k: v.clone() for k, v in network.state_dict().items()},
        "first_batch_f1": first.value,
    }


def regression_fit() -> dict:
    torch.manual_seed(0)
    network = nn.Linear(3, 2)
    generator = torch.Generator().manual_seed(50)
    x_val = torch.randn(23, 3, generator=generator)
    shift = 3.0 * (torch.arange(23) % 8 >= 4).float()[:, None]  # the second process's rows
    y_val = x_val[:, :2] + shift + 0.3 * torch.randn(23, 2, generator=generator)
    task = ember.Supervised(network, "mse", ["r2", TMR.R2Score()])
    trainer = ember.Trainer(task, "sgd", device="cpu")
    history = trainer.fit((x_val, y_val), (x_val, y_val), epochs=1, batch_size=8, verbose=0)
    return {
        "history": history.history,
        "weights": dict(network.state_dict()),
        "data": (x_val, y_val),
    }


def _worker(rank: int, port: int, out: str) -> None:
    act_as_torchrun_process(rank, WORLD_SIZE, port)
    results = {"synced": synced_metric_sets(rank), "regression": regression_fit()}
    results["classifier"] = classifier_fit()
    if rank == 0:  # the main process alone: evaluate's data is whole in each, no collective
        x_val, y_val = classifier_data()[2:]
        trainer = results["classifier"]["trainer"]
        results["evaluate_alone"] = trainer.evaluate((x_val, y_val), batch_size=8, verbose=0)
    results["classifier"].pop("trainer")
    torch.save(results, os.path.join(out, f"rank{rank}.pt"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Each process's results (by rank), and the classifier trained here alone."""
    out = tmp_path_factory.mktemp("distributed_metrics")
    processes = mp.start_processes(
        _worker, args=(free_port(), str(out)), nprocs=WORLD_SIZE, join=False
    )
    alone = classifier_fit()  # meanwhile, here
    deadline = time.monotonic() + 120  # a collective called by one process alone hangs
    while not processes.join(timeout=1):
        if time.monotonic() > deadline:
            for process in processes.processes:
                process.kill()
            pytest.fail("the two processes hung (a collective called by one process only?)")
    return [torch.load(out / f"rank{rank}.pt", weights_only=False) for rank in range(2)], alone


# -- references: torchmetrics.functional on all the rows, in this process ----------------------
def classes_reference(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    predictions, scores = logits.argmax(-1), logits.softmax(-1)
    per_class = TMC.multiclass_f1_score(predictions, labels, num_classes=3, average="none")
    values = {
        "accuracy": TMC.multiclass_accuracy(predictions, labels, num_classes=3, average="micro"),
        "f1": TMC.multiclass_f1_score(predictions, labels, num_classes=3),
        "precision": TMC.multiclass_precision(predictions, labels, num_classes=3),
        "recall_macro": TMC.multiclass_recall(predictions, labels, num_classes=3),
        "auc": TMC.multiclass_auroc(scores, labels, num_classes=3),
        "top_2_accuracy": TMC.multiclass_accuracy(
            logits, labels, num_classes=3, top_k=2, average="micro"
        ),
        "multiclass_f1_score": TMC.multiclass_f1_score(logits, labels, num_classes=3),
        "multiclass_a_u_r_o_c": TMC.multiclass_auroc(logits, labels, num_classes=3),
        **{f"f1_class_{i}": value for i, value in enumerate(per_class)},
    }
    return {name: float(value) for name, value in values.items()}


def values_reference(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    return {
        "r2": float(TMF.r2_score(outputs, targets)),
        "r2_score": float(TMF.r2_score(outputs, targets)),  # the torchmetrics R2Score object
        "mae": float(TMF.mean_absolute_error(outputs, targets)),
        "mse": float(TMF.mean_squared_error(outputs, targets)),
    }


def sequences_reference(logits, labels, mask) -> dict[str, float]:
    logits, labels = logits[mask], labels[mask].long()
    return {
        "accuracy": float(((logits > 0).long() == labels).float().mean()),
        "auc": float(TMC.binary_auroc(logits.sigmoid(), labels)),
        "f1": float(TMC.binary_f1_score((logits > 0).long(), labels)),
    }


def all_rows(part) -> list[torch.Tensor]:
    return [torch.cat(tensors) for tensors in zip(part(0), part(1), strict=True)]


REFERENCES = {
    "classes": (classes_part, classes_reference),
    "values": (values_part, values_reference),
    "sequences": (sequences_part, sequences_reference),
}


def assert_logged(logged: dict, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        assert logged[name] == pytest.approx(value, abs=ATOL), name


@pytest.mark.parametrize("kind", list(REFERENCES))
def test_synced_metrics_are_the_metrics_of_every_processes_rows(results, kind):
    two_processes, _ = results
    part, reference = REFERENCES[kind]
    expected = reference(*all_rows(part))
    for rank in range(WORLD_SIZE):
        logged = two_processes[rank]["synced"][kind]
        assert set(logged) == {"loss", *expected}
        assert_logged(logged, expected)
        loss = torch.cat([part(0)[0], part(1)[0]]).float().mean()  # every row's mean
        assert logged["loss"] == pytest.approx(float(loss), abs=ATOL)


@pytest.mark.filterwarnings("ignore:No (positive|negative) samples")  # a process's AUC
@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("classes", ["f1", "auc", "multiclass_f1_score", "multiclass_a_u_r_o_c"]),
        ("values", ["r2", "r2_score"]),
        ("sequences", ["auc", "f1"]),
    ],
)
def test_the_old_weighted_mean_of_each_process_would_differ(kind, names):
    """The data discriminate: each process's value, weighted by its rows, is far from exact."""
    part, reference = REFERENCES[kind]
    exact = reference(*all_rows(part))
    sizes = [
        float(part(rank)[-1].sum()) if kind == "sequences" else len(part(rank)[0])
        for rank in (0, 1)
    ]
    alone = [reference(*part(rank)) for rank in (0, 1)]
    for name in names:
        weighted = sum(a[name] * n for a, n in zip(alone, sizes, strict=True)) / sum(sizes)
        assert abs(weighted - exact[name]) > 1e-3, name


def test_a_process_without_samples_takes_part_and_logs_the_others(results):
    two_processes, _ = results
    expected = classes_reference(*classes_part(0))
    expected = {k: v for k, v in expected.items() if not k.startswith("multiclass_")}
    for rank in range(WORLD_SIZE):
        assert_logged(two_processes[rank]["synced"]["empty_part"], expected)


def final_classifier_reference(two_processes) -> dict:
    """The metrics of the trained classifier's final weights on the whole validation split, in
    this process alone: what fit's last epoch and evaluate must log."""
    network = classifier_network()
    network.load_state_dict(two_processes[0]["classifier"]["weights"])
    x_val, y_val = classifier_data()[2:]
    with torch.no_grad():
        return classes_reference(network(x_val), y_val)


def test_fit_logs_validation_metrics_of_the_whole_split(results):
    two_processes, _ = results
    expected = final_classifier_reference(two_processes)
    for rank in range(WORLD_SIZE):
        history = two_processes[rank]["classifier"]["history"]
        for name in ["accuracy", "f1", "auc", "multiclass_f1_score"]:
            assert history[f"val_{name}"][-1] == pytest.approx(expected[name], abs=ATOL), name


def test_fit_logs_training_metrics_of_one_process(results):
    two_processes, alone = results
    for rank in range(WORLD_SIZE):
        history = two_processes[rank]["classifier"]["history"]
        for name in ["accuracy", "f1", "auc", "multiclass_f1_score"]:
            assert history[name] == pytest.approx(alone["history"][name], abs=ATOL), name


def test_fit_logs_r2_of_the_whole_split(results):
    two_processes, _ = results
    for rank in range(WORLD_SIZE):
        result = two_processes[rank]["regression"]
        network = nn.Linear(3, 2)
        network.load_state_dict(result["weights"])
        x_val, y_val = result["data"]
        with torch.no_grad():
            expected = float(TMF.r2_score(network(x_val), y_val))
        for name in ["val_r2", "val_r2_score"]:
            assert result["history"][name][-1] == pytest.approx(expected, abs=ATOL), name


def test_metrics_read_per_step_in_one_process_stay_local(results):
    """The main process reads a torchmetrics metric after step 1 alone: no sync, no hang, and
    the value is its own 4 rows' (the global batch's first half), not the batch's 8."""
    two_processes, _ = results
    x, y = classifier_data()[:2]
    with torch.no_grad():
        logits = classifier_network()(x[:8])
    own = float(TMC.multiclass_f1_score(logits[:4], y[:4], num_classes=3))
    whole = float(TMC.multiclass_f1_score(logits, y[:8], num_classes=3))
    assert abs(own - whole) > 1e-3
    assert two_processes[0]["classifier"]["first_batch_f1"] == pytest.approx(own, abs=ATOL)
    assert two_processes[1]["classifier"]["first_batch_f1"] is None  # no callback there


def test_evaluate_in_one_process_alone_is_not_collective(results):
    two_processes, _ = results
    expected = final_classifier_reference(two_processes)
    logged = two_processes[0]["evaluate_alone"]
    assert_logged(
        logged, {k: expected[k] for k in ["accuracy", "f1", "auc", "multiclass_f1_score"]}
    )
