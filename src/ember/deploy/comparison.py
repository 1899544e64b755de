"""Side by side: each way of running a classifier, its file size, latency, accuracy and loss.

Latency is the median of repeated calls at batch 1 and batch 64 after a warm-up, with every
runtime on the same number of threads (torch's). Accuracy and loss (the mean cross-entropy of
the returned probabilities) are over the same inputs. Each row's speed-up is against the first
row (PyTorch eager float32) and, where rows name their runtime (``"torch int8"`` runs in
``torch``), against float32 in the same runtime.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

Runner = Callable[[np.ndarray], np.ndarray]  # a batch of inputs -> class scores


@dataclass
class Measurement:
    """One runtime's numbers."""

    name: str
    size_bytes: int | None
    latency_ms: dict[int, float]  # batch size -> median milliseconds per call
    accuracy: float
    loss: float | None = None  # mean -log(probability of the true class)

    @property
    def runtime(self) -> str:
        """The runtime: the name's first word (``"onnx int8"`` runs in ``onnx``)."""
        return self.name.split()[0]


def onnx_runner(path: str) -> Runner:
    """An ONNX Runtime session on the CPU with torch's thread count, as a function."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def torch_runner(module: torch.nn.Module) -> Runner:
    """``module`` in eval mode under ``torch.inference_mode``, numpy in and out."""
    module.eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(batch)).numpy()

    return run


def measure(
    runners: Mapping[str, tuple[Runner, int | None]],
    inputs: np.ndarray,
    labels: np.ndarray,
    *,
    batch_sizes: tuple[int, ...] = (1, 64),
    repeats: int = 50,
    statistic: str = "median",
) -> list[Measurement]:
    """Each runner's latency at ``batch_sizes`` and accuracy on ``inputs``; ``runners`` maps a
    name to ``(runner, file size in bytes or None)``. ``statistic`` summarises the ``repeats``
    calls: ``"median"``, or ``"min"`` (the least disturbed call, on a machine others share).

    Example:
        >>> net = torch.nn.Linear(4, 3)
        >>> rows = measure({"eager": (torch_runner(net), None)}, np.zeros((10, 4), np.float32),
        ...                np.zeros(10, int), repeats=3)
        >>> rows[0].name, sorted(rows[0].latency_ms)
        ('eager', [1, 64])
    """
    summarise = {"median": statistics.median, "min": min}[statistic]
    rows = []
    for name, (run, size) in runners.items():
        # One runtime at a time: taking turns call by call was tried, and a runtime's idle
        # threads (ONNX Runtime's and OpenMP's spin after each call) then slowed the next one.
        latency = {}
        for batch_size in batch_sizes:
            batch = np.ascontiguousarray(np.resize(inputs, (batch_size, *inputs.shape[1:])))
            _warm_up(run, batch)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run(batch)
                times.append(time.perf_counter() - start)
            latency[batch_size] = summarise(times) * 1e3
        scores = np.concatenate([run(inputs[i : i + 500]) for i in range(0, len(inputs), 500)])
        accuracy = float((scores.argmax(axis=1) == labels).mean())
        loss = cross_entropy(scores, labels)
        rows.append(Measurement(name, size, latency, accuracy, loss))
    return rows


def _warm_up(run: Runner, batch: np.ndarray, seconds: float = 0.5) -> None:
    """The first calls allocate, pick kernels and start threads (one call is not enough: a
    torch CNN's first dozen calls at batch 1 ran 100x slower here)."""
    deadline = time.perf_counter() + seconds
    for _ in range(100):
        run(batch)
        if time.perf_counter() > deadline:
            break


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean ``-log p[label]`` (probabilities floored at 1e-12, as a loss on logits would allow).

    Example:
        >>> round(cross_entropy(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0])), 4)
        0.3993
    """
    picked = probabilities[np.arange(len(labels)), labels.astype(np.int64)]
    return float(-np.log(np.maximum(picked, 1e-12)).mean())


def format_table(rows: list[Measurement]) -> str:
    """A plain-text table: size, latency per batch size, speed-up against the first row and
    against the first row of the same runtime, accuracy and loss.

    Example:
        >>> print(format_table([Measurement("torch fp32", None, {1: 0.3, 64: 9.0}, 0.9, 0.25),
        ...                     Measurement("onnx fp32", 1_000_000, {1: 0.2, 64: 4.0}, 0.9),
        ...                     Measurement("onnx int8", 250_000, {1: 0.1, 64: 2.0}, 0.899)]))
        runtime         size MB  batch 1 ms  vs eager  vs fp32  batch 64 ms  vs eager  vs fp32  accuracy    loss
        torch fp32            -       0.300     1.00x    1.00x        9.000     1.00x    1.00x    0.9000  0.2500
        onnx fp32          1.00       0.200     1.50x    1.00x        4.000     2.25x    1.00x    0.9000       -
        onnx int8          0.25       0.100     3.00x    2.00x        2.000     4.50x    2.00x    0.8990       -
    """
    sizes = list(rows[0].latency_ms)
    header = f"{'runtime':14} {'size MB':>8}"
    for size in sizes:
        header += f" {f'batch {size} ms':>11} {'vs eager':>9} {'vs fp32':>8}"
    lines = [header + f" {'accuracy':>9} {'loss':>7}"]
    for row in rows:
        same = next(r for r in rows if r.runtime == row.runtime)  # that runtime's float32
        size = "-" if row.size_bytes is None else f"{row.size_bytes / 1e6:.2f}"
        line = f"{row.name:14} {size:>8}"
        for batch in sizes:
            speedup = rows[0].latency_ms[batch] / row.latency_ms[batch]
            own = same.latency_ms[batch] / row.latency_ms[batch]
            line += f" {row.latency_ms[batch]:>11.3f} {speedup:>8.2f}x {own:>7.2f}x"
        loss = "-" if row.loss is None else f"{row.loss:.4f}"
        lines.append(line + f" {row.accuracy:>9.4f} {loss:>7}")
    return "\n".join(lines)


def advice(rows: list[Measurement], *, max_drop: float = 0.005) -> str:
    """Which row to use at each batch size: the fastest whose accuracy is within ``max_drop``
    of the first row's.

    Example:
        >>> print(advice([Measurement("torch fp32", None, {1: 0.3, 64: 9.0}, 0.9),
        ...               Measurement("torch int8", 1, {1: 0.4, 64: 3.0}, 0.9),
        ...               Measurement("onnx int8", 1, {1: 0.1, 64: 4.0}, 0.8)]))
        batch 1: torch fp32 (1.00x eager); batch 64: torch int8 (3.00x eager)
    """
    usable = [row for row in rows if row.accuracy >= rows[0].accuracy - max_drop]
    picks = []
    for batch in rows[0].latency_ms:
        best = min(usable, key=lambda row: row.latency_ms[batch])
        speedup = rows[0].latency_ms[batch] / best.latency_ms[batch]
        picks.append(f"batch {batch}: {best.name} ({speedup:.2f}x eager)")
    return "; ".join(picks)
