"""Tabular Q-learning as an ember agent: epochs of episodes, callbacks, checkpoints, a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ember import checks
from ember.rl.agent import Agent
from ember.rl.curves import plot_training
from ember.rl.evaluation import record_episode
from ember.rl.q_table_plot import plot_q_table
from ember.rl.tabular import TabularQLearning

TEST_SEED = 20_000


class TabularAgent(Agent):
    """Runs a :class:`TabularQLearning` learner ``episodes_per_epoch`` episodes per epoch.

    Its steps are episodes (``global_step`` counts them); after each epoch the greedy policy
    plays ``eval_episodes`` episodes and ``eval_success_rate`` is logged (it picks ``best``).

    Example:
        >>> agent = TabularAgent(TabularQLearning(total_episodes=200), 100, eval_episodes=50)
        >>> logs = agent.learn(2, verbose=0)
        >>> agent.global_step, sorted(logs[-1])
        (200, ['env_steps', 'episode_return', 'epsilon', 'eval_return', 'eval_success_rate', 'q_value'])
    """

    monitor = "eval_success_rate"

    def __init__(
        self, learner: TabularQLearning, episodes_per_epoch: int, *, eval_episodes: int = 1000
    ) -> None:
        super().__init__()
        self.learner = learner
        self.model = learner.table
        self.steps_per_epoch = checks.positive_int("episodes_per_epoch", episodes_per_epoch)
        self.eval_episodes = checks.positive_int("eval_episodes", eval_episodes)
        self.episodes: list[tuple[int, float, int]] = []  # (episode, return, 1), for the plot

    def run_epoch(self, epoch: int) -> dict[str, float]:
        def episode_end(episode: int, episode_return: float) -> None:
            self.episodes.append((episode + 1, episode_return, 1))
            self.batch_end(episode - epoch * self.steps_per_epoch)

        returns = self.learner.learn(self.steps_per_epoch, on_episode_end=episode_end)
        self.global_step = self.learner.episodes_done
        scores = self.learner.evaluate(self.eval_episodes)
        return {
            "env_steps": float(self.global_step),
            "episode_return": float(np.mean(returns)),
            "epsilon": self.learner.epsilon(),
            "eval_return": scores["mean_return"],
            "eval_success_rate": scores["success_rate"],
            # the table's estimate of each state's value, averaged (the DQN logs its mean Q)
            "q_value": self.learner.table.values.max(dim=1).values.mean().item(),
        }

    def running_logs(self) -> dict[str, float]:
        recent = self.episodes[-100:]
        return {"episode_return": float(np.mean([r for _, r, _ in recent]))} if recent else {}

    def test(self, episodes: int) -> dict[str, float]:
        scores = self.learner.evaluate(episodes, seed=TEST_SEED)
        return {key: float(value) for key, value in scores.items()}

    def play(self, episodes: int, *, seed: int) -> list[float]:
        return [
            self.learner.evaluate(1, seed=seed + index)["mean_return"] for index in range(episodes)
        ]

    def write_figures(self, folder: Path, epochs: list[dict[str, Any]]) -> list[Path]:
        """``q_table.png`` (the learned table on the map), ``training.png`` and ``episode.gif``."""
        folder.mkdir(parents=True, exist_ok=True)
        env = self.learner.env.unwrapped
        paths = [folder / "q_table.png", folder / "training.png"]
        if hasattr(env, "desc"):
            plot_q_table(self.learner.table, env.desc, paths[0], title=self.learner.env_id)
        else:
            paths.pop(0)
        plot_training(self.episodes, epochs, folder / "training.png", step_name="episodes")
        return [*paths, self.record(folder / "episode.gif", seed=TEST_SEED)]

    def record(self, path: Path, *, seed: int) -> Path:
        values = self.learner.table.values

        def greedy(observations: np.ndarray) -> np.ndarray:
            return values[np.asarray(observations).astype(int)].argmax(dim=-1).numpy()

        learner = self.learner
        return record_episode(
            greedy, learner.env_id, path, seed=seed, env_kwargs=learner.env_kwargs, fps=4, scale=1
        )[0]

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "learner": self.learner.state_dict(),
            "episodes": [list(e) for e in self.episodes],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.learner.load_state_dict(state["learner"])
        self.episodes = [(int(s), float(r), int(n)) for s, r, n in state["episodes"]]
