"""The tasks: what one training step computes, for each kind of learning ember teaches.

Each is a :class:`ember.train.Task` handed to the one engine, ``ember.Trainer(task, ...)``:

* :class:`Supervised`: ``loss(module(x), y)``, with metrics (what ``Model.fit`` builds);
* :class:`LanguageModel`: next-token cross-entropy in nats, bits per token;
* :class:`Autoencoder` (denoising, sparse) and :class:`VariationalAutoencoder` (ELBO);
* :class:`GAN`: two named losses, the discriminator's and the generator's, in a ratio;
* :class:`ContrastiveDivergence`: CD-k and persistent CD for a Bernoulli RBM;
* :class:`PerceptronRule`: Rosenblatt's rule, as SGD on the perceptron criterion;
* :class:`QLearning`: the deep Q-network update (TD error against a target network);
* :class:`QuantizationAware`: supervised fine-tuning through int8 rounding (fake quantization);
* :class:`AdversarialTraining`: supervised learning on PGD-attacked batches (Madry et al.).
"""

from ember.tasks.adversarial import AdversarialTraining
from ember.tasks.autoencoder import Autoencoder
from ember.tasks.contrastive_divergence import ContrastiveDivergence
from ember.tasks.gan import GAN
from ember.tasks.language_model import LanguageModel
from ember.tasks.multi_output import MultiOutput
from ember.tasks.perceptron import PerceptronRule
from ember.tasks.q_learning import QLearning
from ember.tasks.quantization_aware import QuantizationAware
from ember.tasks.supervised import Supervised
from ember.tasks.vae import VariationalAutoencoder

__all__ = [
    "AdversarialTraining",
    "GAN",
    "Autoencoder",
    "ContrastiveDivergence",
    "LanguageModel",
    "MultiOutput",
    "PerceptronRule",
    "QLearning",
    "QuantizationAware",
    "Supervised",
    "VariationalAutoencoder",
]
