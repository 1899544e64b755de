"""Strategies compared side by side, as an ember agent: one epoch is one acquisition round.

:class:`StrategyComparison` holds an :class:`~ember.active.ActiveLearner` for every curve and
seed. Its epoch ``r`` advances each of them one round, so after it every curve has been tested
at ``labels[r]`` labels; it logs ``labels`` and each curve's mean test accuracy over the seeds
(``accuracy_margin``...). It follows :class:`ember.rl.Agent`'s contract, so ``ember train``
gives it the metrics log, checkpoints, TensorBoard and report of any run, and ``ember resume``
continues it exactly: its state is the pools and curves of every learner, its ``model`` the
pretrained encoders (one per seed), so a resumed run never pretrains again.

A curve named ``pretrained_<strategy>`` runs ``<strategy>`` with every round's fresh classifier
started from an encoder pretrained as a denoising autoencoder on the whole pool, once per seed
(:mod:`ember.active.pretraining`), at the start of the first epoch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ember.active.config import PRETRAINED, ActiveLearningConfig, check_active_config
from ember.active.curves import labels_to_reach, plot_learning_curves
from ember.active.learner import ActiveLearner, RoundSettings, Split
from ember.active.networks import Classifier, classifier_from, mlp_encoder
from ember.active.pretraining import pretrain_encoder
from ember.errors import ConfigError
from ember.rl.agent import Agent

FIGURE = "learning_curves.png"


class StrategyComparison(Agent):
    """Every curve of ``config`` (strategies, pretrained ones) on ``pool``, scored on ``test``.

    Example:
        >>> import torch
        >>> x, y = torch.rand(80, 4, 4, 1), torch.arange(80) % 2
        >>> config = ActiveLearningConfig(labels=(10, 20), strategies=("random", "margin"),
        ...     pretrained_strategies=("margin",), seeds=2, steps=2, hidden=(8,),
        ...     score_subset=None, pretrain_epochs=1)
        >>> agent = StrategyComparison(config, (x, y), (x, y))
        >>> logs = agent.learn(2, verbose=0)
        >>> logs[-1]["labels"], [k for k in agent.test() if k.startswith("accuracy_")][:3]
        (20.0, ['accuracy_random', 'accuracy_margin', 'accuracy_pretrained_margin'])
    """

    monitor = "labels"  # rises every round: the best checkpoint is the last

    def __init__(self, config: ActiveLearningConfig, pool: Split, test: Split) -> None:
        super().__init__()
        check_active_config(config, pool_size=len(pool[0]))
        self.config = config
        self.pool = pool
        self.schedule = tuple(config.labels)
        input_shape, classes = tuple(pool[0].shape[1:]), int(max(pool[1].max(), test[1].max())) + 1
        settings = RoundSettings(
            steps=config.steps,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            score_subset=config.score_subset,
            passes=config.bald_passes,
            device=config.device,
        )
        # The pretrained encoders, one per seed: the module a checkpoint stores.
        self.model = nn.ModuleDict()
        if config.pretrained_strategies:
            for index in range(config.seeds):
                self.model[_seed_key(index)] = mlp_encoder(input_shape, config.hidden, 0.0)
        self.pretraining: dict[str, float] = {}  # seconds and reconstruction, once done
        self.learners: dict[str, list[ActiveLearner]] = {}
        for curve in config.curves:
            pretrained = curve.startswith(PRETRAINED)
            self.learners[curve] = [
                ActiveLearner(
                    curve.removeprefix(PRETRAINED),
                    pool,
                    test,
                    self.schedule,
                    network=_network_maker(
                        input_shape,
                        classes,
                        config,
                        self.model[_seed_key(i)] if pretrained else None,
                    ),
                    settings=settings,
                    seed=config.seed + i,
                )
                for i in range(config.seeds)
            ]
        self.steps_per_epoch = len(config.curves) * config.seeds  # classifiers per round

    # -- one round -----------------------------------------------------------------------------
    def run_epoch(self, epoch: int) -> dict[str, float]:
        logs: dict[str, float] = {"labels": float(self.schedule[epoch])}
        if len(self.model) and not self.pretraining:
            logs.update(self.pretrain())
        index = 0
        for curve, learners in self.learners.items():
            accuracies = []
            for learner in learners:
                accuracies.append(learner.step()["accuracy"])
                self.global_step += 1
                self.batch_end(index)
                index += 1
            logs[f"accuracy_{curve}"] = float(np.mean(accuracies))
        return logs

    def pretrain(self) -> dict[str, float]:
        """Pretrain each seed's encoder on every pool image (labels unread); return the logs."""
        start, losses = time.perf_counter(), []
        for index in range(self.config.seeds):
            encoder, loss = pretrain_encoder(
                self.pool[0],
                hidden=self.config.hidden,
                dropout=0.0,
                epochs=self.config.pretrain_epochs,
                seed=self.config.seed + index,
                masking=self.config.pretrain_masking,
                device=self.config.device,
            )
            self.model[_seed_key(index)].load_state_dict(encoder.state_dict())
            losses.append(loss)
        self.pretraining = {
            "pretrain_seconds": time.perf_counter() - start,
            "pretrain_reconstruction": float(np.mean(losses)),
        }
        return dict(self.pretraining)

    def running_logs(self) -> dict[str, float]:
        return {"labels": float(self.schedule[min(self.epoch, len(self.schedule) - 1)])}

    # -- results -------------------------------------------------------------------------------
    def curves(self) -> dict[str, np.ndarray]:
        """Each curve's test accuracies ``(seeds, rounds)``, NaN for rounds not done yet."""
        result = {}
        for curve, learners in self.learners.items():
            values = np.full((len(learners), len(self.schedule)), np.nan)
            for row, learner in zip(values, learners):
                row[: learner.round] = learner.accuracies
            result[curve] = values
        return result

    def test(self, episodes: int = 1) -> dict[str, float]:
        """Each curve's mean accuracy at its last round, and the fewest labels at which its mean
        reaches random sampling's last accuracy (``labels_to_match_random_<curve>``; left out
        where it never does). ``episodes`` is unused: the test set is scored every round."""
        curves, rounds = self.curves(), min(learner.round for learner in self._all_learners())
        if rounds == 0:
            return {}
        means = {curve: values[:, :rounds].mean(axis=0) for curve, values in curves.items()}
        metrics = {f"accuracy_{curve}": float(mean[-1]) for curve, mean in means.items()}
        metrics.update(
            {f"accuracy_{curve}_std": float(curves[curve][:, rounds - 1].std()) for curve in means}
        )
        if "random" in means:
            target = means["random"][-1]
            for curve, mean in means.items():
                needed = labels_to_reach(mean, self.schedule[:rounds], target)
                if curve != "random" and needed is not None:
                    metrics[f"labels_to_match_random_{curve}"] = float(needed)
        return metrics

    def write_figures(self, folder: Path, epochs: list[dict[str, Any]]) -> list[Path]:
        """``learning_curves.png``: test accuracy against labels, every curve, all seeds."""
        folder.mkdir(parents=True, exist_ok=True)
        plot_learning_curves(self.curves(), self.schedule, folder / FIGURE)
        return [folder / FIGURE]

    def play(self, episodes: int, *, seed: int) -> list[float]:
        raise ConfigError(_NO_EPISODES)

    def record(self, path: Path, *, seed: int) -> Path:
        raise ConfigError(_NO_EPISODES)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Every learner's pools and accuracies, and the pretraining's numbers (the encoders'
        weights are the model's own ``state_dict``)."""
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "pretraining": dict(self.pretraining),
            "learners": {
                f"{curve}/{index}": learner.state_dict()
                for curve, learners in self.learners.items()
                for index, learner in enumerate(learners)
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.pretraining = {key: float(value) for key, value in state["pretraining"].items()}
        for curve, learners in self.learners.items():
            for index, learner in enumerate(learners):
                learner.load_state_dict(state["learners"][f"{curve}/{index}"])

    def _all_learners(self) -> list[ActiveLearner]:
        return [learner for learners in self.learners.values() for learner in learners]


_NO_EPISODES = (
    "an active-learning run acts in no environment: it has no episodes to play or film. "
    "Fix: read its learning curves with `ember report RUN`."
)


def _seed_key(index: int) -> str:
    return f"seed_{index}"


def _network_maker(
    input_shape: tuple[int, ...],
    classes: int,
    config: ActiveLearningConfig,
    encoder: nn.Module | None,
) -> Any:
    def make() -> Classifier:
        network = Classifier(input_shape, classes, hidden=config.hidden, dropout=config.dropout)
        return classifier_from(encoder, network)

    return make
