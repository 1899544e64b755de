"""The public API of ember, read by type checkers and IDEs, and by ``__init__.py``'s lazy
loader (each name is imported on first use)."""

from . import activations as activations
from . import active as active
from . import callbacks as callbacks
from . import checks as checks
from . import constraints as constraints
from . import data as data
from . import datasets as datasets
from . import deploy as deploy
from . import graphs as graphs
from . import initializers as initializers
from . import layers as layers
from . import losses as losses
from . import metrics as metrics
from . import models as models
from . import ops as ops
from . import optimizers as optimizers
from . import regularizers as regularizers
from . import rl as rl
from . import schedules as schedules
from . import tabular as tabular
from . import tasks as tasks
from . import train as train
from . import transfer as transfer
from . import utils as utils
from . import zoo as zoo
from .deploy import (
    Predictor as Predictor,
)
from .errors import (
    ConfigError as ConfigError,
)
from .errors import (
    DataError as DataError,
)
from .errors import (
    DatasetError as DatasetError,
)
from .errors import (
    EmberError as EmberError,
)
from .errors import (
    NotCompiledError as NotCompiledError,
)
from .errors import (
    SaveError as SaveError,
)
from .errors import (
    ShapeError as ShapeError,
)
from .errors import (
    WeightsMismatchError as WeightsMismatchError,
)
from .layers import Input as Input
from .layers import KerasTensor as KerasTensor
from .models import Functional as Functional
from .models import Model as Model
from .models import Sequential as Sequential
from .models import create as create
from .models import list_models as list_models
from .models import load_model as load_model
from .models.lr_finder import find_learning_rate as find_learning_rate
from .saving import load_weights as load_weights
from .saving import save_weights as save_weights
from .seeding import set_seed as set_seed
from .tasks import (
    GAN as GAN,
)
from .tasks import (
    Autoencoder as Autoencoder,
)
from .tasks import (
    ContrastiveDivergence as ContrastiveDivergence,
)
from .tasks import (
    LanguageModel as LanguageModel,
)
from .tasks import (
    PerceptronRule as PerceptronRule,
)
from .tasks import (
    QLearning as QLearning,
)
from .tasks import (
    Supervised as Supervised,
)
from .tasks import (
    VariationalAutoencoder as VariationalAutoencoder,
)
from .train import (
    Callback as Callback,
)
from .train import (
    History as History,
)
from .train import (
    Objective as Objective,
)
from .train import (
    Task as Task,
)
from .train import (
    Trainer as Trainer,
)
from .transfer import extract_features as extract_features
from .transfer import fine_tune as fine_tune
from .transfer import freeze as freeze
from .transfer import unfreeze as unfreeze
from .tune import tune as tune
from .version import __version__ as __version__
