"""The Keras front door: ``Sequential``, ``Model`` (wrap any module), ``load_model``, and the zoo.

Each file has one job: ``model.py`` (compile/fit/evaluate/predict for any module),
``sequential.py``, ``fit_arguments.py``, ``serialization.py`` (architectures as data),
``saving.py``/``loading.py`` (model folders),
``summary.py``, ``weights.py``, ``lr_finder.py``; plus two models that train in their own way
on the same engine, ``Perceptron`` and ``DeepBeliefNetwork``. The architectures themselves live
in :mod:`ember.zoo` and are re-exported here.

``DESCRIPTIONS`` gives each zoo entry a one-line description (``ember list`` prints them).
Image models by name come from the zoo's catalog: ``create("resnet18", num_classes=10)``,
``list_models("vgg*")`` (``ember list`` prints them too).
"""

from ember.models.dbn import DeepBeliefNetwork
from ember.models.functional import Functional
from ember.models.loading import load_model
from ember.models.model import Model
from ember.models.perceptron import Perceptron
from ember.models.sequential import Sequential
from ember.zoo import (
    VAE,
    BernoulliRBM,
    BertEncoder,
    ConvAutoencoder,
    DCGANDiscriminator,
    DCGANGenerator,
    DenseAutoencoder,
    LeNet5,
    PretrainedTextClassifier,
    RecurrentLanguageModel,
    SmallResNet,
    TransformerLanguageModel,
    create,
    describe_model,
    list_models,
    load_pretrained,
    pretrained,
)

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
    "LeNet5": "LeCun et al. 1998's LeNet-5 for 28x28 or 32x32 grey images (also create('lenet5'))",
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
    "Functional",
    "DenseAutoencoder",
    "LeNet5",
    "PretrainedTextClassifier",
    "Model",
    "Perceptron",
    "RecurrentLanguageModel",
    "Sequential",
    "SmallResNet",
    "TransformerLanguageModel",
    "create",
    "describe_model",
    "list_models",
    "load_model",
    "load_pretrained",
    "pretrained",
]
