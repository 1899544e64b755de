"""Clearing gradients and stepping fused Adam/AdamW/SGD without ``torch.optim``'s bookkeeping.

For a small model the Python around torch's fused Adam kernel costs about as much as the kernel:
``optimizer.step()`` enters a profiler range, checks step hooks, switches grad mode, rebuilds the
lists of parameters, gradients and state and regroups them by device (~30 µs on a 2-core CPU), and
``zero_grad`` passes through ``torch._disable_dynamo`` (~7 µs, more with a cold cache). That is a
few percent of a batch-256 MLP step. The training engine owns the loop, so it builds the lists
once and calls the kernels torch calls (for Adam ``_foreach_add_`` on the step counts, then
``_fused_adam_``/``_fused_adamw_``; for SGD ``_fused_sgd_``): the update is bitwise torch's. Anything the fast path does
not cover (hooks, a grad scaler, a parameter without a gradient, tensor learning rates, a replaced
state, other optimizers) goes through ``optimizer.step()`` as before.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim import optimizer as torch_optimizer

_ADAM_KERNELS = {False: "_fused_adam_", True: "_fused_adamw_"}
_SGD_KERNEL = "_fused_sgd_"


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


class FusedStep:
    """``optimizer.step()`` for a fused torch Adam, AdamW or SGD, calling its kernel directly.

    Use :func:`optimizer_stepper` rather than this class: it falls back to ``optimizer.step``
    for optimizers this does not cover.

    Example:
        >>> import torch
        >>> layer = torch.nn.Linear(2, 1)
        >>> adam = torch.optim.Adam(layer.parameters(), lr=0.1, fused=True)
        >>> step = FusedStep(adam)
        >>> for _ in range(3):
        ...     adam.zero_grad(); layer(torch.ones(1, 2)).sum().backward(); step()
        >>> int(adam.state[layer.weight]["step"])
        3
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.rule = _rule_for(optimizer) or _ADAM
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
        for _, params, _, _ in plan:
            grads = [p.grad for p in params]
            if any(g is None for g in grads):
                optimizer.step()  # torch skips parameters without a gradient; so do we, there
                return
            gradients.append(grads)
        with torch.no_grad():
            for index, ((group, params, state, kernel), grads) in enumerate(zip(plan, gradients)):
                if not params:
                    continue
                try:
                    self.rule.update(kernel, group, params, grads, state)
                except TypeError:
                    if index:  # an earlier group is already updated: not a signature change
                        raise
                    # A torch whose kernel takes other arguments; nothing was updated.
                    self._disabled, self._plan = True, None
                    optimizer.step()
                    return

    def _plan_holds(self, plan: list) -> bool:
        # load_state_dict swaps the groups' dicts and the state tensors; a callback may add groups
        groups = self.optimizer.param_groups
        if len(groups) != len(plan):
            return False
        state = self.optimizer.state
        for group, (planned, params, lists, _) in zip(groups, plan):
            if group is not planned or len(group["params"]) != len(params):
                return False
            if not self.rule.fusable(group):
                return False
            if params and not self.rule.holds(group, state[params[0]], lists):
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
            kernel = getattr(torch, self.rule.kernel_name(group), None)
            if not self.rule.fusable(group) or kernel is None:
                return None
            params = list(group["params"])
            if len({(p.device, p.dtype) for p in params}) > 1:
                return None  # torch splits the kernel call by device and dtype
            lists = self.rule.state_lists(group, [optimizer.state.get(p) or {} for p in params])
            if lists is None:
                return None  # some parameter has had no gradient yet
            plan.append((group, params, lists, kernel))
        return plan


class _AdamRule:
    """How fused Adam/AdamW keeps its state and calls its kernel (torch.optim.adam._fused_adam)."""

    @staticmethod
    def fusable(group: dict) -> bool:
        return (
            _plain(group)
            and not group.get("capturable")
            and all(isinstance(beta, float) for beta in group.get("betas", (None,)))
            and "decoupled_weight_decay" in group
        )

    @staticmethod
    def kernel_name(group: dict) -> str:
        return _ADAM_KERNELS[bool(group.get("decoupled_weight_decay"))]

    @staticmethod
    def state_lists(group: dict, states: list[dict]) -> tuple | None:
        if any("exp_avg" not in s for s in states):
            return None
        return (
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["max_exp_avg_sq"] for s in states] if group["amsgrad"] else [],
            [s["step"] for s in states],
        )

    @staticmethod
    def holds(group: dict, first_state: dict, lists: tuple) -> bool:
        return first_state.get("exp_avg") is lists[0][0] and bool(lists[2]) == group["amsgrad"]

    @staticmethod
    def update(kernel: Callable, group: dict, params: list, grads: list, lists: tuple) -> None:
        exp_avgs, exp_avg_sqs, max_sqs, steps = lists
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
            torch._foreach_sub_(steps, 1)  # leave no trace of a call that did not happen
            raise


class _SGDRule:
    """How fused SGD keeps its state and calls its kernel (torch.optim.sgd._fused_sgd)."""

    @staticmethod
    def fusable(group: dict) -> bool:
        return _plain(group) and isinstance(group.get("momentum"), (int, float))

    @staticmethod
    def kernel_name(group: dict) -> str:
        return _SGD_KERNEL

    @staticmethod
    def state_lists(group: dict, states: list[dict]) -> tuple | None:
        if group["momentum"] == 0:
            return ([],)  # no buffers: plain gradient descent
        if any(s.get("momentum_buffer") is None for s in states):
            return None
        return ([s["momentum_buffer"] for s in states],)

    @staticmethod
    def holds(group: dict, first_state: dict, lists: tuple) -> bool:
        buffers = lists[0]
        if group["momentum"] == 0:
            return not buffers
        return bool(buffers) and first_state.get("momentum_buffer") is buffers[0]

    @staticmethod
    def update(kernel: Callable, group: dict, params: list, grads: list, lists: tuple) -> None:
        kernel(
            params,
            grads,
            lists[0],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            lr=group["lr"],
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            maximize=group["maximize"],
            is_first_step=False,
            grad_scale=None,
            found_inf=None,
        )


_ADAM, _SGD = _AdamRule(), _SGDRule()


def optimizer_stepper(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """The fastest function doing ``optimizer.step()``: direct kernels for fused Adam/AdamW/SGD.

    Example:
        >>> import torch
        >>> sgd = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)  # not fused
        >>> optimizer_stepper(sgd) == sgd.step
        True
    """
    rule = _rule_for(optimizer)
    if rule is not None and all(rule.fusable(group) for group in optimizer.param_groups):
        return FusedStep(optimizer)
    return optimizer.step


def _rule_for(optimizer: torch.optim.Optimizer) -> _AdamRule | _SGDRule | None:
    # exact types: a subclass may change what step() does
    kind = type(optimizer)
    if kind is torch.optim.SGD:
        return _SGD
    return _ADAM if kind in (torch.optim.Adam, torch.optim.AdamW) else None


def _plain(group: dict) -> bool:
    # fused, a float learning rate (tensor rates take torch's path), not differentiable
    return (
        bool(group.get("fused"))
        and not group.get("differentiable")
        and isinstance(group.get("lr"), float)
    )


def _hooked(optimizer: torch.optim.Optimizer) -> bool:
    # Step hooks (ours and torch's global ones) run inside optimizer.step; take that path if any.
    return bool(
        optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
        or getattr(torch_optimizer, "_global_optimizer_pre_hooks", None)
        or getattr(torch_optimizer, "_global_optimizer_post_hooks", None)
    )
