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

from ember import checks
from ember import optimizers as optimizer_specs
from ember.errors import ConfigError
from ember.layers.constraints import constraint_step
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
    # Projects the layers' constrained weights after each step (Keras' kernel_constraint ...);
    # None when no layer has a constraint.
    constrain: Callable[[], None] | None = None

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
        given), unscale and clip, step the optimizer, apply weight constraints, and step a
        per-step schedule. The scaler's ``update`` is the caller's, once per training step."""
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
        if self.constrain is not None:
            self.constrain()
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
    """Build each objective's optimizer (and schedule) over its parameters, in order.

    Only the parameters that require gradients are given to the optimizer (all frozen is an
    error), grouped by their ``lr_scale`` when some carry one (:func:`parameter_groups`).
    """
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
        module = _module_of(task, objective)
        every = list(module.parameters())
        if not every:
            raise ConfigError(
                f"the objective {objective.loss!r} has no parameters to optimize "
                f"({type(module).__name__} holds none). Fix: give it the module it trains."
            )
        # Frozen parameters stay out of the optimizer: no state, no weight decay, no backward.
        parameters = [p for p in every if p.requires_grad]
        if not parameters:
            raise ConfigError(
                f"every parameter of {type(module).__name__} (trained by the objective "
                f"{objective.loss!r}) is frozen (requires_grad=False), received 0 trainable of "
                f"{len(every)}. Fix: unfreeze some, e.g. ember.transfer.unfreeze(model) or "
                f"model.trainable = True."
            )
        choice = default_optimizer if objective.optimizer is None else objective.optimizer
        spec = optimizer_specs.get(choice)
        optimizer = spec.build(parameter_groups(parameters, spec.learning_rate))
        own = {id(p) for p in every}  # a torch optimizer built by the user may hold frozen ones
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
                _constraints(module, parameters),
            )
        )
    return steps


def _constraints(module: nn.Module, parameters: list[nn.Parameter]) -> Callable[[], None] | None:
    """The layers' constraints (``kernel_constraint`` ...) and the ``constraint`` that
    ``add_weight`` puts on a weight (Keras' ``variable.constraint``), projected after each
    optimizer step; None when there is none (no work per step)."""
    layers = constraint_step(module, parameters)
    own = [(p, p.constraint) for p in parameters if getattr(p, "constraint", None) is not None]
    if not own:
        return layers

    @torch.no_grad()
    def project() -> None:
        if layers is not None:
            layers()
        for parameter, constraint in own:
            parameter.copy_(constraint(parameter))

    return project


def parameter_groups(parameters: list[nn.Parameter], learning_rate: float) -> list[Any]:
    """What the optimizer is built over: ``parameters`` as they are when none carries an
    ``lr_scale`` other than 1 (the usual, fastest case), else one param group per scale, in
    parameter order: ``{"params": [...], "lr": learning_rate * scale, "lr_scale": scale}``.

    ``lr_scale`` is a float attribute of a parameter (set by
    :func:`ember.transfer.discriminative_learning_rates`); schedules keep each group's ratio.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
        >>> for p in net[0].parameters():
        ...     p.lr_scale = 0.1
        >>> [(len(g["params"]), g["lr"]) for g in parameter_groups(list(net.parameters()), 1.0)]
        [(2, 0.1), (2, 1.0)]
    """
    scales = [_lr_scale(p) for p in parameters]
    if all(scale == 1.0 for scale in scales):
        return parameters
    groups: dict[float, list[nn.Parameter]] = {}
    for parameter, scale in zip(parameters, scales):
        groups.setdefault(scale, []).append(parameter)
    return [
        {"params": group, "lr": learning_rate * scale, "lr_scale": scale}
        for scale, group in groups.items()
    ]


def parameters_changed(task: Task, steps: list[ObjectiveStep]) -> bool:
    """Whether the parameters that train, or their ``lr_scale``, differ from those the
    optimizers of ``steps`` were built over (the user froze or unfroze weights since).

    Example:
        >>> import torch, ember
        >>> task = ember.Supervised(torch.nn.Linear(2, 1), "mse")
        >>> steps = build_steps(task, "sgd", 1, 1)
        >>> _ = task.module.bias.requires_grad_(False)
        >>> parameters_changed(task, steps)
        True
    """
    for step in steps:
        module = _module_of(task, step.objective)
        trainable = [p for p in module.parameters() if p.requires_grad]
        if len(trainable) != len(step.parameters):
            return True
        if any(now is not before for now, before in zip(trainable, step.parameters)):
            return True
        built = {
            id(p): group.get("lr_scale", 1.0)
            for group in step.optimizer.param_groups
            for p in group["params"]
        }
        if any(_lr_scale(p) != built.get(id(p), 1.0) for p in trainable):
            return True
    return False


def _module_of(task: Task, objective: Objective) -> nn.Module:
    return objective.parameters if objective.parameters is not None else task.module


def _lr_scale(parameter: nn.Parameter) -> float:
    return checks.positive_number(
        "lr_scale",
        getattr(parameter, "lr_scale", 1.0),
        fix="give each parameter a positive lr_scale (or none), e.g. with "
        "ember.transfer.discriminative_learning_rates(model)",
    )


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
