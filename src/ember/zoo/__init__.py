"""The model zoo: architectures as plain ``torch.nn.Module``s, usable from plain PyTorch.

``ember.models`` re-exports them beside the Keras front door (``ember.models.VAE`` ...).
Image models by name: ``create("resnet18", num_classes=10)``, ``list_models("resnet*")``.
"""

# `vision` registers the catalog's image models: imported here, the catalog is always complete.
from ember.zoo import pretrained
from ember.zoo import vision as vision
from ember.zoo.autoencoders import ConvAutoencoder, DenseAutoencoder
from ember.zoo.bert import BertEncoder
from ember.zoo.catalog import create, describe_model, list_models
from ember.zoo.checkpoints import load_pretrained
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator
from ember.zoo.input_adapters import adapt_input_channels
from ember.zoo.language_models import RecurrentLanguageModel, TransformerLanguageModel
from ember.zoo.lenet import LeNet5
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
    "LeNet5",
    "PretrainedTextClassifier",
    "RecurrentLanguageModel",
    "SmallResNet",
    "TransformerLanguageModel",
    "adapt_input_channels",
    "create",
    "describe_model",
    "list_models",
    "load_pretrained",
    "pretrained",
]
