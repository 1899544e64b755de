"""dqn-cartpole against Stable-Baselines3's DQN on CartPole-v1, side by side in one run.

For each seed, interleaved on the same machine:

* ``ember``: the ``dqn-cartpole`` recipe's agent (Double DQN, 3-step returns, 32 updates every
  64 steps), 50,000 environment steps;
* ``sb3``: ``stable_baselines3.DQN`` with its rl-zoo hyperparameters for CartPole-v1
  (lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000, target every 10 steps, 128 updates
  every 256 steps, epsilon 1 -> 0.04 over 16%, net [256, 256]), 50,000 steps.

Both are scored by the same code every ``--every`` steps: the greedy policy over 100 episodes
from the same starting states (:class:`ember.rl.EpisodeRunner`). Printed per seed: the first
step count at which that mean return is >= 475 ("steps to 475"), the return after 50,000
steps, and the training time to 475 and in all (evaluation time left out of both).

    pip install stable-baselines3          # after torch is pinned (see README)
    python benchmarks/dqn.py               # seeds 0-4
    python benchmarks/dqn.py --seeds 0 --steps 10000     # a quick check
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from ember import recipes
from ember.rl import EpisodeRunner
from ember.train.callback import Callback

TARGET = 475.0
EPISODES = 100
SEED = 10_000  # EpisodeRunner's starting states, the same for both


class Scores:
    """Evaluates a policy every ``every`` steps; keeps training time apart from evaluation's."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.runner = EpisodeRunner("CartPole-v1", EPISODES, seed=SEED)
        self.curve: list[tuple[int, float]] = []
        self.evaluating = 0.0
        self.start = time.perf_counter()
        self.hit: tuple[int, float] | None = None  # (steps, training seconds) at 475

    def __call__(self, steps: int, policy) -> None:
        begin = time.perf_counter()
        mean = float(self.runner.run(policy).mean())
        self.evaluating += time.perf_counter() - begin
        self.curve.append((steps, mean))
        if mean >= TARGET and self.hit is None:
            self.hit = (steps, self.training_seconds())

    def training_seconds(self) -> float:
        return time.perf_counter() - self.start - self.evaluating


def run_ember(seed: int, steps: int, every: int) -> Scores:
    recipe = recipes.get("dqn-cartpole")
    config = recipe.config(seed=seed, steps_per_epoch=every, epochs=steps // every, eval_episodes=0)
    agent = recipe.build(config)
    scores = Scores(every)

    class Evaluate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            scores(agent.global_step, agent.greedy_actions)

    scores.start = time.perf_counter()
    agent.learn(config.epochs, callbacks=[Evaluate()], verbose=0)
    return scores


def run_sb3(seed: int, steps: int, every: int) -> Scores:
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    model = DQN(
        "MlpPolicy",
        gym.make("CartPole-v1"),
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        policy_kwargs={"net_arch": [256, 256]},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    scores = Scores(every)

    def policy(observations: np.ndarray) -> np.ndarray:
        return model.predict(observations, deterministic=True)[0]

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % every == 0:
                scores(self.num_timesteps, policy)
            return True

    scores.start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Evaluate())
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--every", type=int, default=2500, help="steps between evaluations")
    parser.add_argument("--json", help="also write the per-seed results to this file")
    args = parser.parse_args()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for name, run in (("ember", run_ember), ("sb3", run_sb3)):
            scores = run(seed, args.steps, args.every)
            row = {
                "library": name,
                "seed": seed,
                "steps_to_475": scores.hit[0] if scores.hit else None,
                "seconds_to_475": round(scores.hit[1], 1) if scores.hit else None,
                "final_return": scores.curve[-1][1],
                "seconds": round(scores.training_seconds(), 1),
                "curve": [round(value) for _, value in scores.curve],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'':6} {'seed':>4} {'steps to 475':>12} {'s to 475':>9} {'return@end':>10} {'s':>6}")
    for row in rows:
        steps = row["steps_to_475"] or "never"
        seconds = row["seconds_to_475"] or "-"
        print(
            f"{row['library']:6} {row['seed']:>4} {steps:>12} {seconds:>9} "
            f"{row['final_return']:>10.1f} {row['seconds']:>6}"
        )
    for name in ("ember", "sb3"):
        mine = [r for r in rows if r["library"] == name]
        hits = [r["steps_to_475"] for r in mine if r["steps_to_475"]]
        median = statistics.median(hits) if hits else None
        print(
            f"{name}: {len(hits)}/{len(mine)} seeds reach {TARGET:g}; median steps {median}; "
            f"median seconds {statistics.median(r['seconds'] for r in mine)}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
