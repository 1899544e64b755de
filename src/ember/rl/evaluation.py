"""Greedy evaluation: run a policy for N whole episodes (batched), and film one as a GIF."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from ember import checks
from ember.files import atomic_path
from ember.rl.environments import make_single

Policy = Callable[[np.ndarray], np.ndarray]  # observations (N, *obs) -> actions (N,)


class EpisodeRunner:
    """Plays ``episodes`` episodes side by side, one environment each, and returns their returns.

    Environment ``i`` starts from ``reset(seed=seed + i)``, so every evaluation of every agent
    faces the same starting states and the policy is asked for all active episodes at once.

    Example:
        >>> runner = EpisodeRunner("CartPole-v1", episodes=3)
        >>> returns = runner.run(lambda observations: np.zeros(len(observations), dtype=int))
        >>> returns.shape, bool((returns > 5).all())
        ((3,), True)
    """

    def __init__(
        self, env_id: str, episodes: int, *, seed: int = 10_000, env_kwargs: dict | None = None
    ) -> None:
        self.episodes = checks.positive_int("episodes", episodes)
        self.seed = checks.non_negative_int("seed", seed)
        self.envs = [make_single(env_id, env_kwargs=env_kwargs) for _ in range(episodes)]

    def run(self, policy: Policy) -> np.ndarray:
        """Each episode's return (undiscounted), in the order of their seeds."""
        observations = [env.reset(seed=self.seed + i)[0] for i, env in enumerate(self.envs)]
        returns = np.zeros(self.episodes)
        active = list(range(self.episodes))
        while active:
            actions = policy(np.stack([observations[i] for i in active]))
            still = []
            for i, action in zip(active, np.asarray(actions).tolist()):
                observations[i], reward, terminated, truncated, _ = self.envs[i].step(action)
                returns[i] += float(reward)
                if not (terminated or truncated):
                    still.append(i)
            active = still
        return returns

    def close(self) -> None:
        """Close every environment."""
        for env in self.envs:
            env.close()


def record_episode(
    policy: Policy,
    env_id: str,
    path: str | os.PathLike,
    *,
    seed: int = 10_000,
    env_kwargs: dict | None = None,
    fps: int = 30,
    scale: float = 0.5,
    max_frames: int = 1000,
) -> tuple[Path, float]:
    """Film one episode of ``policy`` (``render_mode="rgb_array"``) as an animated GIF.

    Returns the GIF's path and the episode's return. Frames are scaled by ``scale`` to keep
    the file small enough to embed in a report.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "episode.gif"
        >>> _, score = record_episode(lambda o: np.zeros(len(o), dtype=int), "CartPole-v1", path)
        >>> score > 5, Image.open(path).n_frames > 5
        (True, True)
    """
    # pygame draws off screen; without this SDL looks for a display and complains on servers
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    env = make_single(env_id, render_mode="rgb_array", env_kwargs=env_kwargs)
    frames, total = [], 0.0
    observation, _ = env.reset(seed=seed)
    frames.append(env.render())
    done = False
    while not done and len(frames) < max_frames:
        action = np.asarray(policy(np.asarray(observation)[None]))[0]
        observation, reward, terminated, truncated, _ = env.step(action.item())
        total += float(reward)
        frames.append(env.render())
        done = terminated or truncated
    env.close()
    images = [_scaled(frame, scale) for frame in frames]
    path = Path(path)
    with atomic_path(path) as temporary:
        images[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000 / fps),
            loop=0,
        )
    return path, total


def _scaled(frame: np.ndarray, scale: float) -> Image.Image:
    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    if scale != 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    # One shared palette keeps the GIF small and its colours steady from frame to frame.
    return image.quantize(colors=64, method=Image.Quantize.MEDIANCUT)
