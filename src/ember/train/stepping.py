"""Each objective's optimizer and schedule, and the one training step that updates them all.

The engine builds one :class:`ObjectiveStep` per :class:`~ember.train.task.Objective` of a task:
its optimizer over the objective's parameters, its learning-rate schedule, and fast functions
for clearing gradients and stepping (:mod:`ember.train.fast_step`). :func:`training_step`
returns the function the loop calls per batch: the task's step under autocast, then, for each
objective, ``backward`` (scaled for float16), clipping and the optimizer step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ember import optimizers as optimizer_specs
from ember.errors import ConfigError
from ember.train.fast_step import gradient_clearer, optimizer_stepper
from ember.train.optimizer_state import load_optimizer_state
from ember.train.task import Objective, Outputs, Task

StepFunction = Callable[[tuple[torch.Tensor, ...], int], Outputs]


@dataclass
class ObjectiveStep:
    """One objective's optimizer, schedule and parameters, built once per trainer."""

    objective: Objective
    spec: optimizer_specs.OptimizerSpec
    optimizer: torch.optim.Optimizer
    scheduler: Any  # a torch LR scheduler, or None
    parameters: list[nn.Parameter]
    clear: Callable[[], None]
    step: Callable[[], None]

    def __post_init__(self) -> None:
        self.clips = self.spec.clips
        self.step_scheduler = self.scheduler if self.interval == "step" else None

    @property
    def interval(self) -> str | None:
        """``"step"`` or ``"epoch"``: when the schedule steps (None without a schedule)."""
        return None if self.scheduler is None else self.spec.schedule.interval

    def update(
        self,
        loss: torch.Tensor,
        scaler: torch.amp.GradScaler | None,
        inputs: list[torch.Tensor] | None = None,
    ) -> None:
        """Clear the gradients, ``backward`` (scaled for float16; into ``inputs`` only when
        given), unscale and clip, step the optimizer and a per-step schedule. The scaler's
        ``update`` is the caller's, once per training step."""
        self.clear()
        if scaler is None:
            loss.backward(inputs=inputs)
            if self.clips:
                optimizer_specs.clip_gradients(self.parameters, self.spec)
            self.step()
        else:
            scaler.scale(loss).backward(inputs=inputs)
            if self.clips:
                scaler.unscale_(self.optimizer)
                optimizer_specs.clip_gradients(self.parameters, self.spec)
            scaler.step(self.optimizer)
        if self.step_scheduler is not None:
            self.step_scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's and the schedule's states."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (each moment in its parameter's memory layout)."""
        if state.get("optimizer") is not None:
            load_optimizer_state(self.optimizer, state["optimizer"])
        if state.get("scheduler") is not None and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])


def build_steps(
    task: Task, default_optimizer: Any, steps_per_epoch: int | None, epochs: int
) -> list[ObjectiveStep]:
    """Build each objective's optimizer (and schedule) over its parameters, in order."""
    objectives = task.objectives()
    if not objectives:
        raise ConfigError(
            f"{type(task).__name__}.objectives() returned no objective: nothing to minimise. "
            f"Fix: return [ember.train.Objective('loss')] (the default)."
        )
    for objective in objectives:
        if not isinstance(objective, Objective):
            raise ConfigError(
                f"{type(task).__name__}.objectives() must return ember.train.Objective "
                f"objects, received {objective!r}."
            )
    names = [objective.loss for objective in objectives]
    if len(set(names)) != len(names):
        raise ConfigError(
            f"{type(task).__name__}.objectives() names a loss twice ({names}). Fix: give each "
            f"objective its own loss in the step's outputs."
        )
    steps = []
    for objective in objectives:
        module = objective.parameters if objective.parameters is not None else task.module
        parameters = list(module.parameters())
        if not parameters:
            raise ConfigError(
                f"the objective {objective.loss!r} has no parameters to optimize "
                f"({type(module).__name__} holds none). Fix: give it the module it trains."
            )
        choice = default_optimizer if objective.optimizer is None else objective.optimizer
        spec = optimizer_specs.get(choice)
        optimizer = spec.build(parameters)
        own = {id(p) for p in parameters}
        foreign = [
            p for group in optimizer.param_groups for p in group["params"] if id(p) not in own
        ]
        if foreign:  # a torch optimizer built elsewhere, over other tensors
            raise ConfigError(
                f"the optimizer of the objective {objective.loss!r} holds {len(foreign)} "
                f"tensor(s) that are not the parameters it trains. Fix: build it over those "
                f"parameters, or pass a name such as 'adam'."
            )
        scheduler = None
        if spec.schedule is not None:
            scheduler = spec.schedule.build(optimizer, steps_per_epoch or 1, max(epochs, 1))
        steps.append(
            ObjectiveStep(
                objective,
                spec,
                optimizer,
                scheduler,
                parameters,
                gradient_clearer(optimizer),
                optimizer_stepper(optimizer),
            )
        )
    return steps


def training_step(
    task: Task,
    steps: list[ObjectiveStep],
    autocast: contextlib.AbstractContextManager | None,
    scaler: torch.amp.GradScaler | None,
) -> StepFunction:
    """The function ``(batch, global_step) -> outputs`` that trains on one batch.

    One objective (most tasks): ``task.training_step(batch)``, then ``backward`` of its loss,
    clipping, the optimizer step and a per-step schedule. Several (a GAN): for each objective due
    at ``global_step``, in order, ``task.training_step(batch, objective.loss)`` and the same,
    with gradients flowing into that objective's parameters only; the outputs are merged.
    """
    if len(steps) == 1:
        return _single_objective(task, steps[0], autocast, scaler)
    return _several_objectives(task, steps, autocast, scaler)


def _single_objective(
    task: Task,
    objective: ObjectiveStep,
    autocast: contextlib.AbstractContextManager | None,
    scaler: torch.amp.GradScaler | None,
) -> StepFunction:
    # Locals, not attributes: this runs once per batch and is the engine's hot path.
    forward, update, name = task.training_step, objective.update, objective.objective.loss

    def train(batch: tuple[torch.Tensor, ...], global_step: int) -> Outputs:
        if autocast is None:
            outputs = forward(batch)
        else:
            with autocast:
                outputs = forward(batch)
        update(_loss_of(outputs, name, task), scaler)
        if scaler is not None:
            scaler.update()
        return outputs

    return train


def _several_objectives(
    task: Task,
    steps: list[ObjectiveStep],
    autocast: contextlib.AbstractContextManager | None,
    scaler: torch.amp.GradScaler | None,
) -> StepFunction:
    context = autocast if autocast is not None else contextlib.nullcontext()

    def train(batch: tuple[torch.Tensor, ...], global_step: int) -> Outputs:
        outputs: Outputs = {}
        for objective in steps:
            if not objective.objective.due(global_step):
                continue
            name = objective.objective.loss
            with context:
                outputs.update(task.training_step(batch, name))
            # Gradients into this objective's own parameters only (a generator's loss runs
            # through the discriminator, whose weights it must not touch).
            trainable = [p for p in objective.parameters if p.requires_grad]
            objective.update(_loss_of(outputs, name, task), scaler, trainable)
        if scaler is not None:
            scaler.update()  # once per step, after every optimizer has stepped (torch's rule)
        return outputs

    return train


def _loss_of(outputs: Any, name: str, task: Task) -> torch.Tensor:
    loss = outputs.get(name) if isinstance(outputs, dict) else None
    if not isinstance(loss, torch.Tensor):
        received = sorted(outputs) if isinstance(outputs, dict) else type(outputs).__name__
        raise ConfigError(
            f"{type(task).__name__}.training_step must return a dict holding the loss "
            f"{name!r} as a tensor, received {received}. Fix: return {{{name!r}: loss, ...}}."
        )
    return loss
