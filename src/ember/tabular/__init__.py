"""Tables to models: a DataFrame (or CSV) -> tensors -> a network trained by ember's engine ->
predictions for raw rows, with the preprocessing saved beside the weights.

* :class:`TablePreprocessor`: column roles, categorical codes (0 unknown, 1 missing, 2.. the
  training values), numeric imputation and standardisation, "was missing" indicators, targets.
* :class:`TabularMLP` (fastai's tabular model) and :class:`FTTransformer` (Gorishniy et al. 2021):
  plain ``nn.Module``\\ s taking one float tensor ``(N, C + D)``.
* :class:`TablePredictor`: ``predict`` / ``predict_classes`` on raw rows, ``save``; :func:`load`.
* :func:`fit`: all of it in one call.

See docs/tabular.md.
"""

from ember.tabular.columns import MAX_INTEGER_LEVELS, infer_roles, infer_task, read_table
from ember.tabular.encoding import embedding_size
from ember.tabular.fitting import fit
from ember.tabular.ft_transformer import FeatureTokenizer, FTTransformer
from ember.tabular.mlp import TabularMLP
from ember.tabular.networks import NETWORKS
from ember.tabular.predictor import TablePredictor, load
from ember.tabular.preprocessing import TablePreprocessor

__all__ = [
    "MAX_INTEGER_LEVELS",
    "NETWORKS",
    "FTTransformer",
    "FeatureTokenizer",
    "TablePredictor",
    "TablePreprocessor",
    "TabularMLP",
    "embedding_size",
    "fit",
    "infer_roles",
    "infer_task",
    "load",
    "read_table",
]
