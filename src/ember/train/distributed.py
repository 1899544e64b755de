"""Training on several processes with ``torch.distributed``, as started by ``torchrun``.

``Trainer(task, devices=N | "auto", strategy="ddp" | "fsdp")`` joins the processes that
``torchrun`` started (it sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE``):
it initialises the process group once (gloo on the CPU, NCCL on CUDA, one GPU per process),
gives each process its part of every global batch (:mod:`ember.data.sharding`), runs each
training step through DDP or FSDP (:mod:`ember.train.distributed_step`), and makes the epoch's
losses and metrics those of all the processes' samples, once per epoch (:func:`synced_logs`,
:func:`gather_states`). Only the main process (rank 0) prints; :func:`from_main_process` lets
it alone create what all then share (a run folder). ember starts no processes itself: see docs/distributed.md for ``torchrun`` and
``ember train RECIPE --devices N``.
"""

from __future__ import annotations

import atexit
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from ember import checks
from ember.data.batches import DeviceBatches, TensorBatches
from ember.data.sharding import (
    SampledBatches,
    Shard,
    ShardedBatches,
    SlicedBatches,
    StepShare,
    shard_loader,
)
from ember.errors import ConfigError
from ember.metrics.metric_set import States, gathering
from ember.train.precision import resolve_device
from ember.train.records import Records, epoch_logs

STRATEGIES = {
    "ddp": "DistributedDataParallel: each process holds the whole model; gradients are averaged",
    "fsdp": "FSDP2 (fully_shard): parameters, gradients and optimizer state split over processes",
}
T = TypeVar("T")


@dataclass(frozen=True)
class Launch:
    """What ``torchrun`` told this process: its rank, of how many, here and in all."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int


def torchrun_launch() -> Launch | None:
    """This process's place among those ``torchrun`` started, or None outside ``torchrun``.

    Example:
        >>> import os
        >>> torchrun_launch() is None or "RANK" in os.environ
        True
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return None
    world_size = int(os.environ["WORLD_SIZE"])
    return Launch(
        int(os.environ["RANK"]),
        world_size,
        int(os.environ.get("LOCAL_RANK", 0)),
        int(os.environ.get("LOCAL_WORLD_SIZE", world_size)),
    )


def check_strategy(strategy: Any) -> str:
    """``strategy`` if it is one of :data:`STRATEGIES`, else a ConfigError listing them."""
    if strategy not in STRATEGIES:
        known = "; ".join(f"'{name}' ({what})" for name, what in STRATEGIES.items())
        raise ConfigError(f"unknown strategy {strategy!r}. Use one of: {known}.")
    return strategy


def check_devices(devices: Any, device_type: str) -> int | str:
    """``devices`` (``"auto"`` or a number of processes on this machine) checked against what
    it has: one GPU per CUDA process (more is an error), and CPU processes beyond the cores only
    a warning (they train correctly, only slower: useful to test multi-process code).

    Example:
        >>> check_devices("auto", "cpu"), check_devices(1, "cpu")
        ('auto', 1)
    """
    if devices == "auto":
        return devices
    fix = "pass devices='auto' (the processes torchrun started, else 1) or a number such as 2"
    count = checks.positive_int("devices", devices, fix=fix)
    if device_type == "cuda" and count > torch.cuda.device_count():
        raise ConfigError(
            f"devices={count} asks for one GPU per process, but this machine has "
            f"{torch.cuda.device_count()} CUDA GPU(s). Fix: devices={torch.cuda.device_count()} "
            f"or fewer, or device='cpu' for CPU processes."
        )
    if device_type == "cpu" and count > (os.cpu_count() or 1):
        warnings.warn(
            f"devices={count} starts {count} CPU processes on a machine with "
            f"{os.cpu_count()} cores: training stays correct, but processes beyond the cores "
            f"share them and only slow each other down. Fix: devices={os.cpu_count()} or fewer.",
            stacklevel=3,
        )
    elif device_type not in ("cpu", "cuda") and count > 1:
        raise ConfigError(
            f"devices={count} needs CPU or CUDA processes; {device_type!r} cannot join a "
            f"process group. Fix: device='cpu' or 'cuda', or devices=1."
        )
    return count


@dataclass
class Processes:
    """The processes training together, seen from one of them (``rank``)."""

    rank: int
    world_size: int
    device: torch.device
    strategy: str
    share: StepShare = field(init=False)  # this process's part of the step's global batch

    def __post_init__(self) -> None:
        self.share = StepShare(1 / self.world_size)

    @property
    def is_main(self) -> bool:
        """Whether this is the main process (rank 0): the one that prints and writes files."""
        return self.rank == 0

    def shard(self, batches: Any, split: str, epoch: Callable[[], int]) -> Any:
        """This process's part of ``batches`` (``split``: ``"train"`` or ``"val"``); ``epoch``
        tells a ``DistributedSampler`` the epoch it shuffles for."""
        training = split == "train"
        shard = Shard(self.rank, self.world_size, self.share, self._same_order)
        if isinstance(batches, (ShardedBatches, SlicedBatches, SampledBatches)):
            return batches
        if isinstance(batches, TensorBatches):
            if not training and batches.num_samples < self.world_size:
                return batches  # too few rows for every process: each validates them all
            return ShardedBatches(batches, shard, training=training)
        if isinstance(batches, DeviceBatches):
            seed = from_main_process(torch.initial_seed) % 2**62 if training else 0
            return shard_loader(batches, shard, training=training, seed=seed, epoch=epoch)
        return batches

    def _same_order(self, order: torch.Tensor) -> torch.Tensor:
        dist.broadcast(order, src=0)  # once an epoch: the main process's shuffle for all
        return order


def start_processes(
    devices: Any, strategy: Any, device: str | torch.device
) -> tuple[Processes | None, torch.device]:
    """Join the process group when ``torchrun`` started this process with others, and return
    it with this process's device (``cuda:LOCAL_RANK`` on GPUs); ``(None, device)`` when it
    trains alone. ``devices=N > 1`` outside ``torchrun`` is an error telling how to launch.

    Example:
        >>> start_processes("auto", "ddp", "cpu")  # outside torchrun: one process
        (None, device(type='cpu'))
    """
    strategy = check_strategy(strategy)
    resolved = resolve_device(device)
    devices = check_devices(devices, resolved.type)
    launch = torchrun_launch()
    if launch is None:
        if devices in ("auto", 1):
            return None, resolved
        raise ConfigError(
            f"devices={devices} asks for {devices} processes, but this one was not started by "
            f"torchrun (RANK and WORLD_SIZE are not set), and ember does not fork a running "
            f"program. Fix: start it as `torchrun --nproc-per-node {devices} script.py` (or "
            f"`python -m torch.distributed.run ...`), or for a recipe `ember train RECIPE "
            f"--devices {devices}`; see docs/distributed.md."
        )
    if devices not in ("auto", launch.local_world_size):
        raise ConfigError(
            f"devices={devices} does not match the {launch.local_world_size} processes torchrun "
            f"started on this machine (LOCAL_WORLD_SIZE). Fix: devices='auto' (those torchrun "
            f"started), or start torchrun with --nproc-per-node {devices}."
        )
    if launch.world_size == 1:
        return None, resolved
    if resolved.type == "cuda":
        resolved = torch.device("cuda", launch.local_rank)  # one GPU per process
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        # CPU tensors (the epoch's totals, the shuffled order) travel over gloo on GPUs too.
        dist.init_process_group("cpu:gloo,cuda:nccl" if resolved.type == "cuda" else "gloo")
        atexit.register(_leave)
    return Processes(launch.rank, launch.world_size, resolved, strategy), resolved


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def synced_logs(records: Records, metrics: Any, processes: Processes | None) -> dict[str, Any]:
    """The epoch's logs (:func:`ember.train.records.epoch_logs`), over every process when
    ``processes`` is given, the same in each, equal (to float rounding) to the logs of one
    process that saw the whole epoch: each step output's mean weighted by batch size, from one
    ``all_reduce`` of sums and counts, and every metric computed on the rows and counts of all
    the processes (:func:`gather_states`; torchmetrics objects sync their own states), then put
    through the same ``all_reduce`` so that every process logs the very same numbers.
    """
    if processes is None:
        return epoch_logs(records, metrics)
    totals: dict[str, tuple[float, float]] = {}
    for name in dict.fromkeys(name for outputs, _ in records for name in outputs):
        pairs = [(outputs[name], size) for outputs, size in records if name in outputs]
        values = torch.stack([value.detach().float() for value, _ in pairs]).double().cpu()
        sizes = torch.tensor([size for _, size in pairs], dtype=torch.float64)
        totals[name] = (float((values * sizes).sum()), float(sizes.sum()))
    samples = float(sum(size for _, size in records))
    with gathering(lambda rows, sums: gather_states(rows, sums, processes)):
        scores = metrics.compute() if metrics is not None and len(metrics) else {}
    # A metric set of ember's gives every process the same values: weighting them changes
    # nothing. Other metric objects compute on their process's part: a weighted mean of those.
    totals.update({f"metric:{name}": (value * samples, samples) for name, value in scores.items()})
    # Every process lists the same names but for an edge case (an empty part): agree on them.
    every: list[list[str]] = [[] for _ in range(processes.world_size)]
    dist.all_gather_object(every, list(totals))
    names = list(dict.fromkeys(name for names in every for name in names))
    summed = torch.tensor([totals.get(name, (0.0, 0.0)) for name in names], dtype=torch.float64)
    dist.all_reduce(summed)
    logs = {name: float(total / count) for name, (total, count) in zip(names, summed.tolist())}
    outputs = {name: value for name, value in logs.items() if not name.startswith("metric:")}
    return outputs | {name[len("metric:") :]: v for name, v in logs.items() if name not in outputs}


def gather_states(rows: States, totals: States, processes: Processes) -> tuple[States, States]:
    """Metric states of every process, in every process: each of ``rows`` concatenated along
    its first axis in rank order (the processes may hold different numbers of rows, or none:
    None), each of ``totals`` summed; None where no process has one. A collective: every
    process calls it, in the same order. One ``all_gather_object`` of the shapes, then one
    ``all_gather`` per row tensor, padded to the longest part and staying on the device, and
    one ``all_reduce`` of all the totals.
    """
    shapes: list[Any] = [None] * processes.world_size
    dist.all_gather_object(shapes, [[_shape(t) for t in rows], [_shape(t) for t in totals]])
    gathered = [
        _gather_rows(tensor, [every[0][i] for every in shapes], processes)
        for i, tensor in enumerate(rows)
    ]
    described = [_known([every[1][i] for every in shapes]) for i in range(len(totals))]
    return gathered, _sum_totals(totals, described, processes)


def _shape(tensor: torch.Tensor | None) -> tuple[tuple[int, ...], torch.dtype] | None:
    return None if tensor is None else (tuple(tensor.shape), tensor.dtype)


def _known(shapes: list[Any]) -> Any:
    return next((shape for shape in shapes if shape is not None), None)


def _gather_rows(
    tensor: torch.Tensor | None, shapes: list[Any], processes: Processes
) -> torch.Tensor | None:
    known = _known(shapes)
    if known is None:
        return None
    trailing, dtype = known[0][1:], known[1]
    counts = [0 if shape is None else shape[0][0] for shape in shapes]
    padded = torch.zeros((max(counts), *trailing), dtype=dtype, device=processes.device)
    if tensor is not None:
        padded[: len(tensor)] = tensor
    if not max(counts):
        return padded
    parts = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(parts, padded)
    return torch.cat([part[:count] for part, count in zip(parts, counts, strict=True)])


def _sum_totals(totals: States, described: list[Any], processes: Processes) -> States:
    device = processes.device
    flat = [  # float64: counts stay exact up to 2**53
        (torch.zeros(known[0]) if tensor is None else tensor).to(device, torch.float64).reshape(-1)
        for tensor, known in zip(totals, described, strict=True)
        if known is not None
    ]
    if not flat:
        return [None] * len(totals)
    summed = torch.cat(flat)
    dist.all_reduce(summed)
    result: States = []
    start = 0
    for known in described:
        size = 0 if known is None else math.prod(known[0])
        part = summed[start : start + size]
        result.append(None if known is None else part.reshape(known[0]).to(known[1]))
        start += size
    return result


def split_over(batches: Any, processes: Processes | None) -> Processes | None:
    """The processes ``batches`` were split over (:meth:`Processes.shard`), or None for data
    that each process holds whole (``evaluate``'s)."""
    return (
        processes if isinstance(batches, (ShardedBatches, SlicedBatches, SampledBatches)) else None
    )


def main_only(verbose: int, processes: Processes | None) -> int:
    """``verbose`` in the main process, 0 in the others (only rank 0 prints progress)."""
    return verbose if processes is None or processes.is_main else 0


def is_main_process() -> bool:
    """Whether this process is the main one (rank 0), or the only one: the one that writes.

    Example:
        >>> is_main_process()  # outside torchrun
        True
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def from_main_process(make: Callable[[], T]) -> T:
    """``make()`` run by the main process alone, its result handed to every process (a
    broadcast); an error it raises is raised in every process. Alone, just ``make()``.

    Example:
        >>> from_main_process(lambda: "runs/mlp")
        'runs/mlp'
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return make()
    box: list[Any] = [None]
    if dist.get_rank() == 0:
        try:
            box[0] = (make(), None)
        except Exception as error:  # noqa: BLE001  (handed to every process, then raised)
            box[0] = (None, error)
    dist.broadcast_object_list(box, src=0)
    value, error = box[0]
    if error is not None:
        raise error
    return value


def barrier() -> None:
    """Wait until every process gets here (nothing to wait for in one process)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
