"""Experience replay for off-policy agents (DQN): uniform and prioritized, on preallocated tensors.

A transition is ``(observation, action, reward, next_observation, discount)``, where the caller
folds termination, truncation and n-step returns into one number:
``discount = gamma**n * (1 - terminated)`` (see :class:`ember.rl.n_step.NStepReturns`), so the
target is always ``reward + discount * max_a Q(next_observation, a)``.

Example:
    >>> import torch
    >>> buffer = ReplayBuffer(100, (4,), seed=0)
    >>> buffer.add(torch.zeros(3, 4), [0, 1, 2], [1.0, 0.0, 1.0], torch.ones(3, 4), [0.99, 0.99, 0.0])
    >>> observations, actions, rewards, next_observations, discounts = buffer.sample(32)
    >>> len(buffer), observations.shape, actions.dtype, discounts.shape
    (3, torch.Size([32, 4]), torch.int64, torch.Size([32]))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ember import checks
from ember.errors import ConfigError, DataError
from ember.rl.sum_tree import SumTree

Batch = tuple[Tensor, Tensor, Tensor, Tensor, Tensor]
_FIELDS = ("observations", "actions", "rewards", "next_observations", "discounts")


class ReplayBuffer:
    """Uniform experience replay: a ring of preallocated tensors; the oldest transition is overwritten when full.

    Sampling is uniform with replacement and draws from the buffer's own ``torch.Generator``
    (seeded by ``seed``, on the CPU), so it is reproducible and leaves the global RNG alone.

    Example:
        >>> buffer = ReplayBuffer(5, (2,))
        >>> for step in range(8):
        ...     buffer.add([[step, step]], [step], [0.0], [[step, step]], [1.0])
        >>> len(buffer), sorted(buffer.state_dict()["actions"].tolist())
        (5, [3, 4, 5, 6, 7])
    """

    def __init__(
        self,
        capacity: int,
        observation_shape: tuple[int, ...],
        *,
        observation_dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        self.capacity = checks.positive_int("capacity", capacity, fix="pass e.g. capacity=100_000")
        self.observation_shape = checks.positive_ints("observation_shape", observation_shape)
        self.device = torch.device(device)
        self._generator = torch.Generator().manual_seed(checks.non_negative_int("seed", seed))
        self._position = 0  # where the next transition goes
        self._size = 0
        observations = (self.capacity, *self.observation_shape)
        options = {"device": self.device}
        self.observations = torch.zeros(observations, dtype=observation_dtype, **options)
        self.next_observations = torch.zeros(observations, dtype=observation_dtype, **options)
        self.actions = torch.zeros(self.capacity, dtype=torch.int64, **options)
        self.rewards = torch.zeros(self.capacity, dtype=torch.float32, **options)
        self.discounts = torch.zeros(self.capacity, dtype=torch.float32, **options)

    def __len__(self) -> int:
        return self._size

    def add(self, observations, actions, rewards, next_observations, discounts) -> None:
        """Store a batch of ``k`` transitions (leading dimension ``k``; numpy arrays or tensors).

        Once full, the oldest transitions are overwritten; of a batch larger than the capacity
        only the last ``capacity`` are kept, exactly as if they had been added one at a time.
        """
        self._write(observations, actions, rewards, next_observations, discounts)

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement, on the buffer's device.

        Returns ``(observations, actions, rewards, next_observations, discounts)``: actions int64
        ``(B,)``, rewards and discounts float32 ``(B,)``.
        """
        self._check_sample(batch_size)
        indices = torch.randint(self._size, (batch_size,), generator=self._generator)
        return self._gather(indices.to(self.device))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: the stored transitions (on the CPU), the ring's
        position and size, and the generator's state. Only tensors and ints: checkpointable."""
        state: dict[str, Any] = {
            "capacity": self.capacity,
            "observation_shape": list(self.observation_shape),
            "position": self._position,
            "size": self._size,
            "generator": self._generator.get_state(),
        }
        for field in _FIELDS:
            state[field] = getattr(self, field)[: self._size].cpu().clone()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (into a buffer built with the same shapes)."""
        saved = {
            "capacity": state["capacity"],
            "observation_shape": tuple(state["observation_shape"]),
        }
        for name, received in saved.items():
            if received != getattr(self, name):
                raise ConfigError(
                    f"the saved replay buffer has {name}={received}, this one has {name}="
                    f"{getattr(self, name)}. Fix: build the buffer with {name}={received} before "
                    f"loading."
                )
        self._size, self._position = int(state["size"]), int(state["position"])
        for field in _FIELDS:
            storage = getattr(self, field)
            storage[: self._size] = state[field].to(self.device, storage.dtype)
        self._generator.set_state(state["generator"])

    def _check_sample(self, batch_size: int) -> None:
        checks.positive_int("batch_size", batch_size)
        if self._size == 0:
            raise DataError(
                "cannot sample from an empty replay buffer. Fix: add transitions first "
                "(collect some environment steps before learning starts)."
            )

    def _gather(self, indices: Tensor) -> Batch:
        return tuple(getattr(self, field).index_select(0, indices) for field in _FIELDS)

    def _write(self, *transitions: Any) -> np.ndarray:
        """Store the batch ``(observations, ..., discounts)``; return the slots it went to."""
        batch = {
            field: torch.as_tensor(v, device=self.device) for field, v in zip(_FIELDS, transitions)
        }
        if batch["actions"].is_floating_point():  # a float action would be truncated silently
            raise DataError(
                f"expected integer (discrete) actions, received {batch['actions'].dtype}. "
                f"Fix: pass action indices, e.g. actions.astype(np.int64)."
            )
        observations = batch["observations"]
        count = observations.shape[0] if observations.dim() else 0
        for field, values in batch.items():
            expected = (count, *getattr(self, field).shape[1:])
            if tuple(values.shape) != expected:
                raise DataError(
                    f"expected {field} of shape {expected} (k transitions, then "
                    f"observation_shape={self.observation_shape} for observations), received "
                    f"{tuple(values.shape)}. Fix: pass one row per transition in every argument."
                )
        kept = min(count, self.capacity)  # a batch over the capacity keeps its last `capacity`
        start = self._position + count - kept
        slots = np.arange(start, start + kept) % self.capacity
        slots_on_device = torch.from_numpy(slots).to(self.device)
        for field, values in batch.items():
            storage = getattr(self, field)
            storage[slots_on_device] = values[count - kept :].to(storage.dtype)
        self._position = (self._position + count) % self.capacity
        self._size = min(self._size + count, self.capacity)
        return slots


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2016): P(i) ∝ p_i**alpha, importance weights (N·P(i))**-beta / max.

    New transitions get the largest priority seen so far, so each is likely replayed at least
    once; :meth:`update_priorities` sets ``p_i = |td_error_i| + epsilon`` for the transitions of
    the last :meth:`sample` (whose slots it keeps in ``last_indices``). The agent anneals the
    public ``beta`` towards 1 over training. Sampling is stratified, as in the paper: one
    uniform draw in each of ``batch_size`` equal segments of the total priority.

    Example:
        >>> buffer = PrioritizedReplayBuffer(8, (1,), alpha=1.0, beta=1.0)
        >>> buffer.add([[0.0], [1.0]], [0, 1], [0.0, 0.0], [[0.0], [1.0]], [1.0, 1.0])
        >>> buffer.update_priorities(torch.tensor([0, 1]), torch.tensor([1.0, 3.0]))
        >>> *transitions, weights = buffer.sample(4)
        >>> buffer.last_indices.tolist(), weights.tolist()  # P = 1/4, 3/4: weights 2, 2/3 -> / 2
        ([0, 1, 1, 1], [1.0, 0.3333..., 0.3333..., 0.3333...])
    """

    def __init__(
        self,
        capacity: int,
        observation_shape: tuple[int, ...],
        *,
        alpha: float = 0.6,
        beta: float = 0.4,
        epsilon: float = 1e-6,
        observation_dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ) -> None:
        super().__init__(
            capacity,
            observation_shape,
            observation_dtype=observation_dtype,
            device=device,
            seed=seed,
        )
        self.alpha = checks.non_negative_number("alpha", alpha)
        self.beta = checks.number_in("beta", beta, 0, 1, closed="[]")
        self.epsilon = checks.positive_number("epsilon", epsilon, fix="pass e.g. epsilon=1e-6")
        self.max_priority = 1.0
        self.last_indices = torch.zeros(0, dtype=torch.int64)
        self._tree = SumTree(self.capacity)  # holds p**alpha, on the CPU in float64

    def add(self, observations, actions, rewards, next_observations, discounts) -> None:
        """Store a batch of transitions (as :meth:`ReplayBuffer.add`) at the largest priority yet."""
        slots = self._write(observations, actions, rewards, next_observations, discounts)
        self._tree.update(slots, np.full(len(slots), self.max_priority**self.alpha))

    def sample(self, batch_size: int) -> tuple[Tensor, ...]:
        """The five tensors of :meth:`ReplayBuffer.sample` plus importance weights, float32 (B,).

        The weights are ``(N * P(i))**-beta`` divided by their largest value in the batch.
        """
        self._check_sample(batch_size)
        total = self._tree.total
        uniforms = torch.rand(batch_size, generator=self._generator, dtype=torch.float64)
        targets = (np.arange(batch_size) + uniforms.numpy()) * (total / batch_size)
        # rounding can carry the topmost target past the last stored slot (see SumTree.find)
        indices = np.minimum(self._tree.find(targets), self._size - 1)
        probabilities = self._tree.values(indices) / total
        weights = (self._size * probabilities) ** -self.beta
        weights = torch.from_numpy(weights / weights.max()).to(self.device, torch.float32)
        self.last_indices = torch.from_numpy(indices)
        return (*self._gather(self.last_indices.to(self.device)), weights)

    def update_priorities(self, indices, td_errors) -> None:
        """Set ``p = |td_error| + epsilon`` at ``indices`` (tensors or arrays; repeats: last wins)."""
        indices = torch.as_tensor(indices).detach().cpu().numpy().astype(np.int64).reshape(-1)
        errors = torch.as_tensor(td_errors).detach().cpu().numpy().astype(np.float64).reshape(-1)
        if len(indices) != len(errors):
            raise DataError(
                f"expected one td error per index, received {len(errors)} td errors for "
                f"{len(indices)} indices. Fix: pass the td errors of the batch from last_indices."
            )
        if not np.isfinite(errors).all():
            raise DataError(
                f"expected finite td errors, received {np.sum(~np.isfinite(errors))} NaN or "
                f"infinite of {len(errors)}. Fix: the loss diverged; lower the learning rate or "
                f"clip gradients, and check the rewards and observations for NaN."
            )
        if len(indices) and (indices.min() < 0 or indices.max() >= self._size):
            raise DataError(
                f"expected indices of stored transitions in [0, {self._size}), received "
                f"{indices.min()} to {indices.max()}. Fix: pass buffer.last_indices."
            )
        priorities = np.abs(errors) + self.epsilon
        self._tree.update(indices, priorities**self.alpha)
        if len(priorities):
            self.max_priority = max(self.max_priority, float(priorities.max()))

    def state_dict(self) -> dict[str, Any]:
        """:meth:`ReplayBuffer.state_dict` plus the priorities (``p**alpha``), alpha and beta."""
        stored = np.arange(self._size)
        return {
            **super().state_dict(),
            "priorities": torch.from_numpy(self._tree.values(stored)),
            "max_priority": self.max_priority,
            "alpha": self.alpha,
            "beta": self.beta,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        super().load_state_dict(state)
        self.alpha, self.beta = float(state["alpha"]), float(state["beta"])
        self.max_priority = float(state["max_priority"])
        self._tree = SumTree(self.capacity)
        self._tree.update(np.arange(self._size), state["priorities"].double().numpy())
