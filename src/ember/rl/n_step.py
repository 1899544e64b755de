"""n-step returns: turn each step of parallel environments into n-step transitions for replay.

A transition starting at step ``t`` carries the return ``r_t + gamma r_{t+1} + ... +
gamma**(m-1) r_{t+m-1}`` of the ``m <= n`` steps until ``n`` have passed or the episode ended,
the observation after them, and the discount to apply to its bootstrapped value:
``gamma**m``, or 0 when the episode terminated. A truncated episode (a time limit) still
bootstraps from its true final observation.

Example:
    >>> import numpy as np
    >>> n_step = NStepReturns(n=2, gamma=0.5, num_envs=1)
    >>> step = lambda t, done: n_step.push(
    ...     np.array([[t]]), np.array([0]), np.array([1.0]), np.array([[t + 1]]),
    ...     np.array([done]), np.array([False]))
    >>> step(0, False) is None  # waiting for a second step
    True
    >>> step(1, False)  # 1 + 0.5 * 1, bootstrapping from observation 2 with 0.5**2
    (array([[0]]), array([0]), array([1.5], dtype=float32), array([[2]]), array([0.25], dtype=float32))
    >>> observations, actions, returns, next_observations, discounts = step(2, True)
    >>> observations.ravel(), returns, next_observations.ravel(), discounts
    (array([1, 2]), array([1.5, 1. ], dtype=float32), array([3, 3]), array([0., 0.], dtype=float32))
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from ember import checks
from ember.errors import ConfigError, DataError

Transitions = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_ARGUMENTS = ("observations", "actions", "rewards", "next_observations", "terminated", "truncated")


class NStepReturns:
    """Turns each environment step of `num_envs` parallel environments into n-step transitions for the replay buffer.

    Each environment keeps a queue of its last ``< n`` pending ``(observation, action, reward)``.
    :meth:`push` appends a step to every queue and returns what is complete now: the oldest
    pending step of a queue that reached ``n``, or all of them when the episode ended. With
    ``n = 1`` that is the plain transition: ``(obs, action, r, next_obs, gamma * (1 - terminated))``.

    ``next_observations`` must hold the true final observation of an episode that ended (with
    gymnasium's vector environments it is in ``info["final_obs"]``, not in the returned reset
    observation).
    """

    def __init__(self, n: int, gamma: float, num_envs: int) -> None:
        self.n = checks.positive_int("n", n, fix="pass n=1 for one-step returns")
        self.gamma = checks.number_in("gamma", gamma, 0, 1, closed="[]")
        self.num_envs = checks.positive_int("num_envs", num_envs)
        self._queues: list[deque] = [deque() for _ in range(self.num_envs)]

    def push(
        self, observations, actions, rewards, next_observations, terminated, truncated
    ) -> Transitions | None:
        """Add one step of every environment; return the transitions complete now, or None.

        Every argument has a leading dimension of ``num_envs``. The result is
        ``(observations, actions, returns, next_observations, discounts)`` with a common leading
        dimension (oldest first within an environment), ready for ``ReplayBuffer.add``.
        """
        arrays = [np.asarray(a) for a in (observations, actions, rewards, next_observations)]
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        for name, array in zip(_ARGUMENTS, (*arrays, terminated, truncated)):
            if array.ndim == 0 or array.shape[0] != self.num_envs:
                raise DataError(
                    f"expected {name} with a leading dimension of num_envs={self.num_envs}, "
                    f"received shape {array.shape}. Fix: pass one entry per environment."
                )
        observations, actions, rewards, next_observations = arrays
        emitted: list[tuple] = []
        for env, queue in enumerate(self._queues):
            # copy: the caller may reuse its observation array for the next step
            queue.append((observations[env].copy(), actions[env], float(rewards[env])))
            if terminated[env] or truncated[env]:
                ends = len(queue)  # every pending step ends with the episode
            else:
                ends = 1 if len(queue) == self.n else 0
            for _ in range(ends):
                discount = 0.0 if terminated[env] else self.gamma ** len(queue)
                emitted.append((*self._oldest_return(queue), next_observations[env], discount))
                queue.popleft()
        if not emitted:
            return None
        columns = list(zip(*emitted))
        return (
            np.stack(columns[0]),
            np.asarray(columns[1]),
            np.asarray(columns[2], dtype=np.float32),
            np.stack(columns[3]),
            np.asarray(columns[4], dtype=np.float32),
        )

    def _oldest_return(self, queue: deque) -> tuple[np.ndarray, Any, float]:
        observation, action, _ = queue[0]
        discounted = sum(self.gamma**k * reward for k, (_, _, reward) in enumerate(queue))
        return observation, action, discounted

    def state_dict(self) -> dict[str, Any]:
        """The settings and the pending steps of every environment (tensors, floats, lists)."""
        return {
            "n": self.n,
            "gamma": self.gamma,
            "num_envs": self.num_envs,
            "queues": [
                {
                    "observations": [torch.from_numpy(np.array(obs)) for obs, _, _ in queue],
                    "actions": [torch.as_tensor(np.array(action)) for _, action, _ in queue],
                    "rewards": [reward for _, _, reward in queue],
                }
                for queue in self._queues
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, into an instance with the same settings."""
        for name in ("n", "gamma", "num_envs"):
            if state[name] != getattr(self, name):
                raise ConfigError(
                    f"the saved n-step state has {name}={state[name]}, this one has "
                    f"{name}={getattr(self, name)}. Fix: build NStepReturns with "
                    f"{name}={state[name]} before loading."
                )
        self._queues = [
            deque(
                (obs.numpy().copy(), action.numpy()[()], float(reward))
                for obs, action, reward in zip(
                    queue["observations"], queue["actions"], queue["rewards"]
                )
            )
            for queue in state["queues"]
        ]
