"""Reinforcement learning: agents that act in gymnasium environments and learn from it.

* :class:`DQN` (with :class:`DQNConfig`): deep Q-learning with replay, a target network,
  Double DQN, dueling heads, n-step returns and prioritized replay as options; its update is
  the engine's step of the :class:`ember.tasks.QLearning` task.
* :class:`TabularQLearning`: the same algorithm with a table instead of a network.
* :class:`ReplayBuffer`, :class:`PrioritizedReplayBuffer`, :class:`NStepReturns`,
  :class:`QNetwork`, :class:`EpisodeRunner`, :func:`record_episode`: the parts, for one's own loop.

An agent is an :class:`Agent`: it calls ember's callbacks like the engine does, so a run of an
agent (``ember train dqn-cartpole``) has the same metrics log, checkpoints, TensorBoard events
and report as any other, and ``ember resume`` continues it exactly.
"""

from ember.rl.agent import Agent
from ember.rl.dqn import DQN
from ember.rl.dqn_config import DQNConfig
from ember.rl.environments import make_vector_env
from ember.rl.evaluation import EpisodeRunner, record_episode
from ember.rl.n_step import NStepReturns
from ember.rl.q_networks import QNetwork
from ember.rl.q_table_plot import plot_q_table
from ember.rl.replay import PrioritizedReplayBuffer, ReplayBuffer
from ember.rl.tabular import QTable, TabularQLearning, q_learning_update

__all__ = [
    "DQN",
    "Agent",
    "DQNConfig",
    "EpisodeRunner",
    "NStepReturns",
    "PrioritizedReplayBuffer",
    "QNetwork",
    "QTable",
    "ReplayBuffer",
    "TabularQLearning",
    "make_vector_env",
    "plot_q_table",
    "q_learning_update",
    "record_episode",
]
