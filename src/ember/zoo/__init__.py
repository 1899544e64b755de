"""The model zoo: architectures as plain ``torch.nn.Module``s, usable from plain PyTorch.

``ember.models`` re-exports them beside the Keras front door (``ember.models.VAE`` ...).
"""

from ember.zoo import pretrained
from ember.zoo.autoencoders import ConvAutoencoder, DenseAutoencoder
from ember.zoo.bert import BertEncoder
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
from ember.zoo.language_models import RecurrentLanguageModel, TransformerLanguageModel
from ember.zoo.rbm import BernoulliRBM
from ember.zoo.resnet import SmallResNet
from ember.zoo.text_classifier import PretrainedTextClassifier
from ember.zoo.vae import VAE

__all__ = [
    "VAE",
    "BernoulliRBM",
    "BertEncoder",
    "ConvAutoencoder",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DenseAutoencoder",
    "PretrainedTextClassifier",
    "RecurrentLanguageModel",
    "SmallResNet",
    "TransformerLanguageModel",
    "pretrained",
]
