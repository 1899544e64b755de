"""The training engine: Trainer, tasks, callbacks, History.

A task says how one step turns a batch into losses (``Supervised``, ``LanguageModel``,
``Autoencoder``, ``VariationalAutoencoder``, ``GAN``, ``ContrastiveDivergence``); the Trainer runs
any of them.
"""

from ember.train.autoencoder import Autoencoder
from ember.train.callback import Callback
from ember.train.gan import GAN
from ember.train.history import History
from ember.train.language_model import LanguageModel
from ember.train.rbm import ContrastiveDivergence
from ember.train.tasks import Supervised
from ember.train.trainer import Trainer
from ember.train.vae import VariationalAutoencoder

__all__ = [
    "GAN",
    "Autoencoder",
    "Callback",
    "ContrastiveDivergence",
    "History",
    "LanguageModel",
    "Supervised",
    "Trainer",
    "VariationalAutoencoder",
]
