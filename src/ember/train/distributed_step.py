"""The training step on several processes: DDP or FSDP around the task's whole step.

A task calls whatever it likes inside ``training_step`` (``Sequential.logits`` rather than the
module's ``forward``, a GAN's two networks), so wrapping the module alone would leave DDP's
forward unused and the gradients unsynchronised. Instead, each objective's step runs as the
forward pass of a :class:`StepModule` that DDP wraps (or FSDP shards), as Lightning runs its
``training_step`` inside DDP's forward; ``backward`` then averages the gradients over the
processes (DDP) or reduce-scatters them (FSDP), before the engine clips and steps.

The engine steps a :class:`DistributedTask` in place of the task (:func:`distribute`); the task
itself, its module's ``state_dict`` and everything else stay as they were.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ember.data.sharding import StepShare
from ember.errors import ConfigError
from ember.train.distributed import Processes
from ember.train.task import Batch, Objective, Outputs, Task


class StepModule(nn.Module):
    """One objective's training step as a module's forward pass, so that DDP/FSDP see it.

    ``trained`` (the objective's module) is registered here, so its parameters are the
    wrapper's. The objective's loss gets a gradient hook weighing it by this process's share of
    the global batch (``share.fraction * N``, 1 but for a short last batch split unevenly), so
    the averaged gradient is the global batch's mean.
    """

    def __init__(
        self, task: Task, trained: nn.Module, objective: str, several: bool, share: StepShare
    ) -> None:
        super().__init__()
        self.trained = trained
        self.task = task
        self.objective = objective
        self.several = several
        self.share = share
        self.world_size = dist.get_world_size()

    def forward(self, batch: Batch) -> Outputs:
        """The task's step on ``batch`` (for this objective when the task has several)."""
        task = self.task
        outputs = (
            task.training_step(batch, self.objective) if self.several else task.training_step(batch)
        )
        weight = self.share.fraction * self.world_size
        loss = outputs.get(self.objective) if isinstance(outputs, dict) else None
        if abs(weight - 1.0) > 1e-12 and isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.register_hook(lambda gradient: gradient * weight)
        return outputs


class DistributedTask(Task):
    """``task`` as the engine steps it on several processes: ``training_step`` runs through
    each objective's DDP (or FSDP) wrapper; the engine uses nothing else of it."""

    def __init__(self, task: Task, steps: dict[str, nn.Module]) -> None:
        super().__init__(task.module)
        self.task = task
        self.steps = steps
        self.first = next(iter(steps))

    def training_step(self, batch: Batch, objective: str | None = None) -> Outputs:
        """The wrapped step of ``objective`` (the only one's when None)."""
        return self.steps[self.first if objective is None else objective](batch)


def distribute(task: Task, processes: Processes | None) -> Task:
    """What the engine steps: ``task`` itself in one process, else a :class:`DistributedTask`
    whose objectives' steps run inside DDP (``strategy="ddp"``), or inside FSDP2's
    ``fully_shard`` (``"fsdp"``: each child of the module with parameters sharded, then the
    step; one objective only). Call it after the module is built and on its device, before
    the optimizers are built (FSDP replaces the parameters by sharded ones).
    """
    if processes is None:
        return task
    objectives = task.objectives()
    several = len(objectives) > 1
    modules = {o.loss: _trained(task, o) for o in objectives}
    _check_disjoint(task, modules)
    steps: dict[str, nn.Module] = {}
    for name, module in modules.items():
        step = StepModule(task, module, name, several, processes.share)
        if not any(p.requires_grad for p in module.parameters()):
            steps[name] = step  # all frozen: the engine's own error says so, with the fix
        elif processes.strategy == "fsdp":
            steps[name] = _fully_shard(step, module, task, several)
        else:
            cuda = processes.device.type == "cuda"
            steps[name] = DistributedDataParallel(
                step, device_ids=[processes.device.index] if cuda else None
            )
    return DistributedTask(task, steps)


def _trained(task: Task, objective: Objective) -> nn.Module:
    return task.module if objective.parameters is None else objective.parameters


def _check_disjoint(task: Task, modules: dict[str, nn.Module]) -> None:
    seen: dict[int, str] = {}
    for name, module in modules.items():
        for parameter in module.parameters():
            other = seen.setdefault(id(parameter), name)
            if other != name:
                raise ConfigError(
                    f"{type(task).__name__}'s objectives {other!r} and {name!r} train some of "
                    f"the same parameters; on several processes each objective's gradients are "
                    f"averaged by a wrapper of its own, which must not share them. Fix: give "
                    f"each objective its own sub-module (as ember.GAN does), or train on one "
                    f"process."
                )


def _fully_shard(step: StepModule, module: nn.Module, task: Task, several: bool) -> nn.Module:
    if several:
        raise ConfigError(
            f"strategy='fsdp' shards the model of one objective, but {type(task).__name__} "
            f"has several (each objective's step calls the others' networks, which FSDP would "
            f"have to gather outside their wrapper). Fix: strategy='ddp'."
        )
    # Here, not at the top: FSDP's import (DTensor) adds ~0.8 s to every program using the
    # engine, and only strategy="fsdp" needs it.
    from torch.distributed.fsdp import FSDPModule, fully_shard

    if not any(isinstance(part, FSDPModule) for part in module.modules()):
        # fully_shard keeps each process's own values: start every process from the main one's.
        for tensor in [*module.parameters(), *module.buffers()]:
            shared = tensor.data.contiguous()  # a channels-last kernel is sent as a copy
            dist.broadcast(shared, src=0)
            if shared.data_ptr() != tensor.data.data_ptr():
                tensor.data.copy_(shared)
        for child in module.children():
            if any(True for _ in child.parameters()):
                fully_shard(child)
    return fully_shard(step)
