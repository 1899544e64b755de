"""The tabular networks by name: what ``tabular.fit(model=...)`` builds and a saved predictor
records.

Example:
    >>> NETWORKS.names()
    ['ft_transformer', 'mlp']
    >>> NETWORKS.get("mlp").__name__
    'TabularMLP'
"""

from __future__ import annotations

from torch import nn

from ember.errors import SaveError
from ember.registry import Registry
from ember.tabular.ft_transformer import FTTransformer
from ember.tabular.mlp import TabularMLP

NETWORKS = Registry("tabular network")
NETWORKS.add("mlp", TabularMLP)
NETWORKS.add("ft_transformer", FTTransformer)


def network_name(network: nn.Module) -> str:
    """The registered name of ``network``'s class; a SaveError for any other module.

    Example:
        >>> network_name(TabularMLP([3], 1, 2))
        'mlp'
    """
    for name in NETWORKS.names():
        if type(network) is NETWORKS.get(name):
            return name
    raise SaveError(
        f"a TablePredictor saves only the networks {NETWORKS.names()} (it rebuilds them from "
        f"their recorded arguments), received a {type(network).__name__}. Fix: use TabularMLP or "
        f"FTTransformer, or save this network's weights with ember.save_weights."
    )
