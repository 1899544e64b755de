"""Models: ``Sequential``, ``Model`` (wrap any module), ``load_model``, and the model zoo.

``DESCRIPTIONS`` gives each zoo entry a one-line description (``ember list`` prints them).
"""

from ember.model import Model
from ember.models.autoencoders import ConvAutoencoder, DenseAutoencoder
from ember.models.bert import BertEncoder
from ember.models.dbn import DeepBeliefNetwork
from ember.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ember.models.language_models import RecurrentLanguageModel, TransformerLanguageModel
from ember.models.perceptron import Perceptron
from ember.models.rbm import BernoulliRBM
from ember.models.resnet import SmallResNet
from ember.models.text_classifier import PretrainedTextClassifier
from ember.models.vae import VAE
from ember.sequential import Sequential
from ember.serialization import load_model

DESCRIPTIONS: dict[str, str] = {
    "Sequential": "Keras-style stack of layers: compile, fit, evaluate, predict, summary, save",
    "Model": "wraps any torch.nn.Module with the same fit/evaluate/predict",
    "Perceptron": "Rosenblatt's perceptron learning rule, a task on the same engine",
    "SmallResNet": "a small residual CNN with batch norm for 28x28 images (fashion-resnet)",
    "RecurrentLanguageModel": "embedding, SimpleRNN/LSTM/GRU layers, next-token logits (textgen-*)",
    "TransformerLanguageModel": "a small GPT: causal transformer blocks with a key/value cache",
    "BertEncoder": "BERT's text encoder; all-MiniLM-L6-v2 via models.pretrained.load_minilm()",
    "PretrainedTextClassifier": "a pretrained BERT encoder, top layers fine-tuned, bottom cached",
    "DenseAutoencoder": "an undercomplete dense autoencoder (encode, decode)",
    "ConvAutoencoder": "a convolutional autoencoder: strided convolutions down, transposed up",
    "VAE": "a variational autoencoder: Gaussian encoder, Bernoulli or Gaussian decoder",
    "DCGANGenerator": "DCGAN's generator: transposed convolutions from noise (and a class)",
    "DCGANDiscriminator": "DCGAN's discriminator (or WGAN critic), optionally class-conditioned",
    "BernoulliRBM": "a restricted Boltzmann machine trained by contrastive divergence",
    "DeepBeliefNetwork": "stacked RBMs, pretrained greedily, then fine-tuned as an MLP",
}

__all__ = [
    "DESCRIPTIONS",
    "VAE",
    "BernoulliRBM",
    "BertEncoder",
    "ConvAutoencoder",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "DeepBeliefNetwork",
    "DenseAutoencoder",
    "PretrainedTextClassifier",
    "Model",
    "Perceptron",
    "RecurrentLanguageModel",
    "Sequential",
    "SmallResNet",
    "TransformerLanguageModel",
    "load_model",
]
