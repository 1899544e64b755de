"""Transfer learning: reuse a trained network for a new task, on any ``torch.nn.Module``.

* :func:`freeze` / :func:`unfreeze`: which weights train (by dotted submodule name), with
  Keras' rule for frozen batch-norm layers (inference mode) or fastai's (``batchnorm="train"``);
* :func:`head_of`, :func:`replace_head`, :func:`without_head`: the classifier;
* :func:`layer_groups`, :func:`discriminative_learning_rates`,
  :func:`clear_learning_rate_scales`: a learning rate per layer group (fastai's ``slice``);
* :func:`extract_features`: a frozen backbone's outputs, computed once;
* :func:`fine_tune`: fastai's two phases, head first, then everything.

Example:
    >>> import torch
    >>> from ember import transfer
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
    >>> head = transfer.replace_head(net, 3)
    >>> frozen = transfer.freeze(net, up_to="1")
    >>> [name for name, p in net.named_parameters() if p.requires_grad]
    ['2.weight', '2.bias']
"""

from ember.transfer.features import extract_features
from ember.transfer.fine_tune import fine_tune
from ember.transfer.freezing import freeze, unfreeze
from ember.transfer.heads import head_of, replace_head, without_head
from ember.transfer.layer_groups import (
    clear_learning_rate_scales,
    discriminative_learning_rates,
    layer_groups,
)

__all__ = [
    "clear_learning_rate_scales",
    "discriminative_learning_rates",
    "extract_features",
    "fine_tune",
    "freeze",
    "head_of",
    "layer_groups",
    "replace_head",
    "unfreeze",
    "without_head",
]
