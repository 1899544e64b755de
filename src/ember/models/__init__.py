"""Models: ``Sequential``, ``Model`` (wrap any module), ``load_model``, and the model zoo.

``DESCRIPTIONS`` gives each zoo entry a one-line description (``ember list`` prints them).
"""

from ember.model import Model
from ember.models.bert import BertEncoder
from ember.models.language_models import RecurrentLanguageModel, TransformerLanguageModel
from ember.models.perceptron import Perceptron
from ember.models.resnet import SmallResNet
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
}

__all__ = [
    "DESCRIPTIONS",
    "BertEncoder",
    "Model",
    "Perceptron",
    "RecurrentLanguageModel",
    "Sequential",
    "SmallResNet",
    "TransformerLanguageModel",
    "load_model",
]
