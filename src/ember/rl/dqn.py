"""Deep Q-learning (Mnih et al. 2015) on a gymnasium environment, read top to bottom.

Each environment step: pick an action epsilon-greedily, step the environments, store the
transition in the replay buffer (an n-step one when ``n_step > 1``). Every ``train_frequency``
steps after ``learning_starts``: ``gradient_steps`` updates, each the engine's step of the
:class:`~ember.tasks.QLearning` task on a replayed batch (Huber TD loss, clipping, Adam). Every
``target_update_interval`` steps: refresh the target network. After each epoch: a greedy
evaluation, the callbacks (metrics log, checkpoint, TensorBoard, progress bar).

Example:
    >>> agent = DQN(DQNConfig(epochs=1, steps_per_epoch=300, learning_starts=100,
    ...                       train_frequency=50, gradient_steps=5, hidden=(16,)))
    >>> logs = agent.learn(1, verbose=0)
    >>> agent.global_step, sorted(logs[0])[:3]
    (300, ['env_steps', 'episode_length', 'episode_return'])
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ember import optimizers
from ember.errors import ConfigError
from ember.rl.agent import Agent
from ember.rl.curves import plot_training
from ember.rl.dqn_config import DQNConfig, check_dqn_config
from ember.rl.environments import (
    check_discrete_actions,
    make_vector_env,
    observation_shape,
    restore,
    snapshot,
)
from ember.rl.evaluation import EpisodeRunner, record_episode
from ember.rl.n_step import NStepReturns
from ember.rl.q_networks import QNetwork, check_q_network
from ember.rl.replay import PrioritizedReplayBuffer, ReplayBuffer
from ember.seeding import set_seed
from ember.tasks.q_learning import QLearning
from ember.train import Trainer
from ember.train.precision import resolve_device

EVALUATION_SEED = 10_000  # greedy evaluations start from their own states, never training's
TEST_SEED = 20_000  # the final evaluation's states: held out from the per-epoch ones
MODAL_LAYERS = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase)


class DQN(Agent):
    """A deep Q-network agent: epsilon-greedy acting, replay, target network, the engine's update.

    Args:
        config: the hyperparameters (:class:`DQNConfig`); keyword ``settings`` override it.
        network: any module mapping observations ``(B, *obs)`` to action values ``(B, A)``;
            default: a :class:`QNetwork` MLP of ``config.hidden`` (dueling if asked).

    ``learn(epochs)`` acts for ``epochs * steps_per_epoch`` environment steps (call it again
    with a larger ``epochs`` to go on); :meth:`evaluate` plays greedy episodes.
    """

    def __init__(
        self, config: DQNConfig | None = None, *, network: nn.Module | None = None, **settings: Any
    ) -> None:
        super().__init__()
        config = config or DQNConfig()
        unknown = sorted(set(settings) - {f.name for f in dataclasses.fields(DQNConfig)})
        if unknown:
            raise ConfigError(
                f"DQN has no setting {unknown[0]!r}. Fix: use one of "
                f"{', '.join(f.name for f in dataclasses.fields(DQNConfig))}."
            )
        self.config = config = dataclasses.replace(config, **settings)
        check_dqn_config(config)
        set_seed(config.seed)  # the network's initial weights
        self.device = resolve_device(config.device)
        self.steps_per_epoch = config.steps_per_epoch
        self.monitor = "eval_return" if config.eval_episodes else "episode_return"

        # -- the environments ------------------------------------------------------------------
        self.envs = make_vector_env(config.env_id, config.num_envs)
        self.num_actions = check_discrete_actions(self.envs, config.env_id)
        self.observation_shape = observation_shape(self.envs, config.env_id)
        self.observations, _ = self.envs.reset(seed=config.seed)

        # -- the Q-network, its target and the engine that trains it ---------------------------
        size = math.prod(self.observation_shape)
        network = network or QNetwork(size, self.num_actions, config.hidden, dueling=config.dueling)
        self.model = network.to(self.device)
        check_q_network(self.model, self.observation_shape, self.num_actions, config.env_id)
        # Switching modes walks every submodule: only worth it where a mode changes the output.
        self._modal = any(isinstance(m, MODAL_LAYERS) for m in self.model.modules())
        self.task = QLearning(self.model, double=config.double, loss=config.loss)
        clip = config.max_grad_norm or None
        optimizer = optimizers.Adam(learning_rate=config.learning_rate, global_clipnorm=clip)
        self.trainer = Trainer(self.task, optimizer, device=self.device)

        # -- experience ------------------------------------------------------------------------
        buffer = PrioritizedReplayBuffer if config.prioritized else ReplayBuffer
        dtype = torch.uint8 if self.envs.single_observation_space.dtype == np.uint8 else None
        self.buffer = buffer(
            config.buffer_size,
            self.observation_shape,
            observation_dtype=dtype or torch.float32,
            device=self.device,
            seed=config.seed,
        )
        self.n_step = NStepReturns(config.n_step, config.gamma, config.num_envs)
        self.rng = np.random.Generator(np.random.PCG64(config.seed))  # epsilon-greedy's coin
        self.episode_returns = np.zeros(config.num_envs)
        self.episode_lengths = np.zeros(config.num_envs, dtype=np.int64)
        self.episodes: list[tuple[int, float, int]] = []  # (env step at its end, return, length)
        self.trainer.build(self._zero_batch())  # optimizers exist, so a checkpoint loads at once
        self._evaluator: EpisodeRunner | None = None
        self._losses: list[torch.Tensor] = []
        self._q_values: list[torch.Tensor] = []

    # -- acting --------------------------------------------------------------------------------
    def epsilon(self) -> float:
        """The chance of a random action now: linear from start to end, then flat."""
        config = self.config
        horizon = config.exploration_fraction * max(self._total_steps(), 1)
        progress = 1.0 if horizon == 0 else min(self.global_step / horizon, 1.0)
        return config.epsilon_start + progress * (config.epsilon_end - config.epsilon_start)

    @torch.inference_mode()
    def greedy_actions(self, observations: np.ndarray) -> np.ndarray:
        """``argmax_a Q(s, a)`` for a batch of observations."""
        if self._modal:  # dropout or batch norm act differently in training mode
            self.model.eval()
        inputs = torch.as_tensor(np.asarray(observations), device=self.device).float()
        actions = self.model(inputs).argmax(dim=1).cpu().numpy()
        if self._modal:
            self.model.train()
        return actions

    def act(self, observations: np.ndarray, epsilon: float) -> np.ndarray:
        """Epsilon-greedy actions: each environment explores with chance ``epsilon``."""
        count = len(observations)
        explore = self.rng.random(count) < epsilon
        random_actions = self.rng.integers(self.num_actions, size=count)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self.greedy_actions(observations))

    # -- one epoch -----------------------------------------------------------------------------
    def run_epoch(self, epoch: int) -> dict[str, float]:
        config = self.config
        train_every = max(config.train_frequency // config.num_envs, 1)
        target_every = max(config.target_update_interval // config.num_envs, 1)
        first_episode = len(self.episodes)
        self._losses, self._q_values = [], []
        for index in range(config.steps_per_epoch // config.num_envs):
            # 1. act: at random until learning starts, then epsilon-greedily
            epsilon = 1.0 if self.global_step < config.learning_starts else self.epsilon()
            actions = self.act(self.observations, epsilon)
            next_observations, rewards, terminated, truncated, infos = self.envs.step(actions)

            # 2. store: a finished episode's true last observation is in infos["final_obs"]
            #    (the returned one already starts the next episode); truncation bootstraps.
            done = terminated | truncated
            last_observations = next_observations.copy()
            for i in np.flatnonzero(done):
                last_observations[i] = infos["final_obs"][i]
            ready = self.n_step.push(
                self.observations, actions, rewards, last_observations, terminated, truncated
            )
            if ready is not None:
                self.buffer.add(*ready)
            self._count_episodes(rewards, done)
            self.observations = next_observations
            self.global_step += config.num_envs
            iteration = self.global_step // config.num_envs

            # 3. learn: gradient_steps engine steps on replayed batches
            if self.global_step > config.learning_starts and iteration % train_every == 0:
                for _ in range(config.gradient_steps):
                    self._update()

            # 4. refresh the target network
            if iteration % target_every == 0:
                self.task.update_target(config.tau)
            self.batch_end(index)
        return self._epoch_logs(first_episode)

    def _update(self) -> None:
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            progress = min(self.global_step / max(self._total_steps(), 1), 1.0)
            self.buffer.beta = 0.4 + progress * 0.6  # annealed to 1 by the end (the paper)
        outputs = self.trainer.train_on_batch(self.buffer.sample(self.config.batch_size))
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            self.buffer.update_priorities(self.buffer.last_indices, self.task.last_td_error)
        self._losses.append(outputs["loss"])
        self._q_values.append(outputs["q_value"])

    def _count_episodes(self, rewards: np.ndarray, done: np.ndarray) -> None:
        self.episode_returns += rewards
        self.episode_lengths += 1
        for i in np.flatnonzero(done):
            episode = (self.global_step + i + 1, float(self.episode_returns[i]))
            self.episodes.append((*episode, int(self.episode_lengths[i])))
            self.episode_returns[i], self.episode_lengths[i] = 0.0, 0

    def _epoch_logs(self, first_episode: int) -> dict[str, float]:
        logs: dict[str, float] = {"env_steps": float(self.global_step), "epsilon": self.epsilon()}
        finished = self.episodes[first_episode:]
        if finished:
            logs["episode_return"] = float(np.mean([r for _, r, _ in finished]))
            logs["episode_length"] = float(np.mean([n for _, _, n in finished]))
        if self._losses:  # read from the device once per epoch
            logs["loss"] = torch.stack(self._losses).mean().item()
            logs["q_value"] = torch.stack(self._q_values).mean().item()
        if self.config.eval_episodes:
            returns = self.evaluate(self.config.eval_episodes)
            logs["eval_return"], logs["eval_return_std"] = returns.mean(), returns.std()
        return logs

    def running_logs(self) -> dict[str, float]:
        recent = self.episodes[-20:]
        logs = {"epsilon": self.epsilon()}
        if recent:
            logs["episode_return"] = float(np.mean([r for _, r, _ in recent]))
        return logs

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, episodes: int, *, seed: int = EVALUATION_SEED) -> np.ndarray:
        """Returns of ``episodes`` greedy episodes (from starting states ``seed``, ``seed+1``...)."""
        if self._evaluator is None or (self._evaluator.episodes, self._evaluator.seed) != (
            episodes,
            seed,
        ):
            self._evaluator = EpisodeRunner(self.config.env_id, episodes, seed=seed)
        return self._evaluator.run(self.greedy_actions)

    def test(self, episodes: int) -> dict[str, float]:
        returns = self.evaluate(episodes, seed=TEST_SEED)
        return {
            "mean_return": float(returns.mean()),
            "std_return": float(returns.std()),
            "min_return": float(returns.min()),
            "max_return": float(returns.max()),
        }

    def play(self, episodes: int, *, seed: int) -> list[float]:
        return self.evaluate(episodes, seed=seed).tolist()

    def write_figures(self, folder: Path, epochs: list[dict[str, Any]]) -> list[Path]:
        """``training.png`` (returns, epsilon, loss, mean Q against steps) and ``episode.gif``
        (one greedy episode from the first held-out starting state)."""
        folder.mkdir(parents=True, exist_ok=True)
        plot_training(self.episodes, epochs, folder / "training.png")
        return [folder / "training.png", self.record(folder / "episode.gif", seed=TEST_SEED)]

    def record(self, path: Path, *, seed: int) -> Path:
        return record_episode(self.greedy_actions, self.config.env_id, path, seed=seed)[0]

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The engine's state (optimizer, target network, global generators) and the agent's:
        replay buffer, pending n-step transitions, environments, exploration generator."""
        return {
            "engine": self.trainer.state_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "agent": {
                "observations": torch.as_tensor(self.observations),
                "environments": snapshot(self.envs),
                "buffer": self.buffer.state_dict(),
                "n_step": self.n_step.state_dict(),
                "rng": self.rng.bit_generator.state,
                "episode_returns": torch.as_tensor(self.episode_returns),
                "episode_lengths": torch.as_tensor(self.episode_lengths),
                "episodes": torch.tensor(self.episodes, dtype=torch.float64).reshape(-1, 3),
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the network's weights are its own ``state_dict``)."""
        self.trainer.load_state_dict(state["engine"])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        agent = state["agent"]
        self.observations = agent["observations"].numpy()
        restore(self.envs, agent["environments"], self.observations)
        self.buffer.load_state_dict(agent["buffer"])
        self.n_step.load_state_dict(agent["n_step"])
        self.rng.bit_generator.state = agent["rng"]
        self.episode_returns = agent["episode_returns"].numpy().copy()
        self.episode_lengths = agent["episode_lengths"].numpy().copy()
        self.episodes = [(int(s), float(r), int(n)) for s, r, n in agent["episodes"].tolist()]

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        return self.trainer.optimizer

    def _zero_batch(self) -> tuple[torch.Tensor, ...]:
        observations = torch.zeros(1, *self.observation_shape, device=self.device)
        scalar = torch.zeros(1, device=self.device)
        batch = (observations, scalar.long(), scalar, observations, scalar)
        return (*batch, scalar + 1) if self.config.prioritized else batch

    def _total_steps(self) -> int:
        return max(self._epochs, self.config.epochs) * self.config.steps_per_epoch
