"""Clearing gradients and stepping fused Adam/AdamW without ``torch.optim``'s per-call bookkeeping.

For a small model the Python around torch's fused Adam kernel costs about as much as the kernel:
``optimizer.step()`` enters a profiler range, checks step hooks, switches grad mode, rebuilds the
lists of parameters, gradients and state and regroups them by device (~30 µs on a 2-core CPU), and
``zero_grad`` passes through ``torch._disable_dynamo`` (~7 µs, more with a cold cache). That is a
few percent of a batch-256 MLP step. The training engine owns the loop, so it builds the lists
once and calls the same two kernels torch calls (``_foreach_add_`` on the step counts, then
``_fused_adam_``/``_fused_adamw_``): the update is bitwise torch's. Anything the fast path does
not cover (hooks, a grad scaler, a parameter without a gradient, tensor learning rates, a replaced
state, other optimizers) goes through ``optimizer.step()`` as before.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim import optimizer as torch_optimizer

_FUSED_KERNELS = {False: "_fused_adam_", True: "_fused_adamw_"}


def gradient_clearer(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """A function doing ``optimizer.zero_grad(set_to_none=True)``, cheaply where it is torch's own.

    Example:
        >>> import torch
        >>> layer = torch.nn.Linear(2, 1)
        >>> clear = gradient_clearer(torch.optim.SGD(layer.parameters(), lr=0.1))
        >>> layer(torch.ones(1, 2)).sum().backward(); clear()
        >>> layer.weight.grad is None
        True
    """
    if type(optimizer).zero_grad is not torch.optim.Optimizer.zero_grad:
        return lambda: optimizer.zero_grad(set_to_none=True)
    groups = optimizer.param_groups

    def clear() -> None:
        for group in groups:  # read per call: a callback may add a group (unfreezing layers)
            for p in group["params"]:
                p.grad = None

    return clear


class FusedAdamStep:
    """``optimizer.step()`` for a fused torch Adam/AdamW, calling its kernels directly.

    Use :func:`optimizer_stepper` rather than this class: it falls back to ``optimizer.step``
    for optimizers this does not cover.

    Example:
        >>> import torch
        >>> layer = torch.nn.Linear(2, 1)
        >>> adam = torch.optim.Adam(layer.parameters(), lr=0.1, fused=True)
        >>> step = FusedAdamStep(adam)
        >>> for _ in range(3):
        ...     adam.zero_grad(); layer(torch.ones(1, 2)).sum().backward(); step()
        >>> int(adam.state[layer.weight]["step"])
        3
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._plan: list[tuple] | None = None
        self._disabled = False  # set if this torch's kernels take other arguments

    def __call__(self) -> None:
        optimizer = self.optimizer
        plan = self._plan
        if self._disabled:
            optimizer.step()
            return
        if plan is None or not self._plan_holds(plan) or _hooked(optimizer):
            optimizer.step()  # also creates the state the first time
            self._plan = self._make_plan()
            return
        gradients = []
        for _, params, *_ in plan:
            grads = [p.grad for p in params]
            if any(g is None for g in grads):
                optimizer.step()  # torch skips parameters without a gradient; so do we, there
                return
            gradients.append(grads)
        with torch.no_grad():
            for index, (planned, grads) in enumerate(zip(plan, gradients)):
                group, params, exp_avgs, exp_avg_sqs, max_sqs, steps, kernel = planned
                if not params:
                    continue
                beta1, beta2 = group["betas"]
                torch._foreach_add_(steps, 1)
                try:
                    kernel(
                        params,
                        grads,
                        exp_avgs,
                        exp_avg_sqs,
                        max_sqs,
                        steps,
                        amsgrad=group["amsgrad"],
                        lr=group["lr"],
                        beta1=beta1,
                        beta2=beta2,
                        weight_decay=group["weight_decay"],
                        eps=group["eps"],
                        maximize=group["maximize"],
                        grad_scale=None,
                        found_inf=None,
                    )
                except TypeError:
                    if index:  # an earlier group is already updated: not a signature change
                        raise
                    # A torch whose kernel takes other arguments: nothing was updated yet.
                    torch._foreach_sub_(steps, 1)
                    self._disabled, self._plan = True, None
                    optimizer.step()
                    return

    def _plan_holds(self, plan: list) -> bool:
        # load_state_dict swaps the groups' dicts and the state tensors; a callback may add groups
        groups = self.optimizer.param_groups
        if len(groups) != len(plan):
            return False
        state = self.optimizer.state
        for group, (planned, params, exp_avgs, *_) in zip(groups, plan):
            if group is not planned or len(group["params"]) != len(params):
                return False
            if not isinstance(group["lr"], float) or group.get("capturable"):
                return False
            if params and state[params[0]].get("exp_avg") is not exp_avgs[0]:
                return False
        return True

    def _make_plan(self) -> list | None:
        optimizer = self.optimizer
        if getattr(optimizer, "grad_scale", None) is not None:
            return None
        if getattr(optimizer, "found_inf", None) is not None:
            return None
        plan = []
        for group in optimizer.param_groups:
            kernel = getattr(torch, _FUSED_KERNELS[bool(group.get("decoupled_weight_decay"))], None)
            if not _fusable(group) or kernel is None:
                return None
            params = list(group["params"])
            states = [optimizer.state.get(p) for p in params]
            if any(not s or "exp_avg" not in s for s in states):
                return None  # some parameter has had no gradient yet
            if len({(p.device, p.dtype) for p in params}) > 1:
                return None  # torch splits the kernel call by device and dtype
            max_sqs = [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else []
            plan.append(
                (
                    group,
                    params,
                    [s["exp_avg"] for s in states],
                    [s["exp_avg_sq"] for s in states],
                    max_sqs,
                    [s["step"] for s in states],
                    kernel,
                )
            )
        return plan


def optimizer_stepper(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """The fastest function doing ``optimizer.step()``: direct kernels for fused Adam/AdamW.

    Example:
        >>> import torch
        >>> sgd = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
        >>> optimizer_stepper(sgd) == sgd.step
        True
    """
    if type(optimizer) in (torch.optim.Adam, torch.optim.AdamW) and all(
        _fusable(group) for group in optimizer.param_groups
    ):
        return FusedAdamStep(optimizer)
    return optimizer.step


def _fusable(group: dict) -> bool:
    return (
        bool(group.get("fused"))
        and not group.get("capturable")
        and not group.get("differentiable")
        and isinstance(group.get("lr"), float)
        and all(isinstance(beta, float) for beta in group.get("betas", (None,)))
        and "decoupled_weight_decay" in group
    )


def _hooked(optimizer: torch.optim.Optimizer) -> bool:
    # Step hooks (ours and torch's global ones) run inside optimizer.step; take that path if any.
    return bool(
        optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
        or getattr(torch_optimizer, "_global_optimizer_pre_hooks", None)
        or getattr(torch_optimizer, "_global_optimizer_post_hooks", None)
    )
