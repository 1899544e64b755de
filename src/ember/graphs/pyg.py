"""PyTorch Geometric's parts that ember.graphs uses, imported in one place.

PyG 2.8 decorates a helper with ``torch.jit.script`` when it is imported, which torch 2.13
deprecates with a warning that says nothing to an ember user; it is silenced here, for that
import only.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
    from torch_geometric.nn import GATConv, GCNConv, MessagePassing
    from torch_geometric.utils import degree, to_undirected

__all__ = ["GATConv", "GCNConv", "MessagePassing", "degree", "to_undirected"]
