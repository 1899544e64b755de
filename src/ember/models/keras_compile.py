"""A model's compile settings as Keras 3 keeps them in a ``.keras`` file, and back.

Keras writes ``compile_config``: the optimizer (a name, or its class and hyper-parameters), the
loss and the metrics (names, or classes with a config). :func:`keras_compile_arguments` turns it
into ember's ``compile`` arguments, or raises :class:`~ember.errors.ConfigError` naming what
ember has no equivalent for; :func:`keras_compile_config` writes ember's settings when they are
names, which Keras reads alike.

Example:
    >>> keras_compile_arguments({
    ...     "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01, "name": "adam"}},
    ...     "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]})
    {'optimizer': Adam(learning_rate=0.01), 'loss': 'sparse_categorical_crossentropy', 'metrics': ['accuracy'], 'from_logits': False}
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from ember import losses
from ember import metrics as ember_metrics
from ember.errors import ConfigError
from ember.optimizers import OPTIMIZERS, OptimizerSpec
from ember.optimizers.spec import CommonArguments

# Keras settings ember lacks, at values that change nothing (None changes nothing either).
_OPTIMIZER_NEUTRAL = {"use_ema": False}
_OPTIMIZER_INERT = {"name", "ema_momentum", "ema_overwrite_frequency"}  # unused without EMA
_LOSS_NEUTRAL = {"reduction": "sum_over_batch_size", "axis": -1, "label_smoothing": 0.0}
_LOSS_INERT = {"name", "dtype", "from_logits"}  # from_logits becomes compile's argument
_UNSET = object()
# The ember specs that are Keras optimizers under the same class name (Rprop is torch's only).
_KERAS_OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}


def keras_compile_arguments(compile_config: dict[str, Any]) -> dict[str, Any]:
    """``model.compile`` arguments for a Keras ``compile_config``."""
    if compile_config.get("weighted_metrics"):
        raise ConfigError("it uses weighted_metrics, which ember's compile does not take.")
    loss, from_logits = _loss(compile_config.get("loss"))
    arguments = {
        "optimizer": _optimizer(compile_config.get("optimizer") or "rmsprop"),
        "loss": loss,
        "metrics": _metrics(compile_config.get("metrics")),
        "from_logits": from_logits,
    }
    if compile_config.get("loss_weights") is not None:
        arguments["loss_weights"] = compile_config["loss_weights"]
    return arguments


def keras_compile_config(compiled: dict[str, Any] | None) -> dict[str, Any] | None:
    """Keras' ``compile_config`` for ember's ``model.compile_config``, or None when a setting is
    an object Keras cannot name (the model is then saved uncompiled). An optimizer spec of a
    Keras class with a constant learning rate is written as Keras writes it (class and
    arguments), e.g. ``RMSprop(learning_rate=0.1)``."""
    if not compiled:
        return None
    optimizer = keras_optimizer_config(compiled["optimizer"])
    try:
        json.dumps({**compiled, "optimizer": optimizer})
    except (TypeError, ValueError):
        return None
    return {
        "optimizer": optimizer,
        "loss": compiled["loss"],
        "loss_weights": compiled.get("loss_weights"),
        "metrics": compiled.get("metrics"),
        "weighted_metrics": None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def keras_optimizer_config(optimizer: Any) -> Any:
    """``optimizer`` as Keras 3 serialises it in a ``compile_config``: a name stays a name, a
    spec of a Keras optimizer class with a constant learning rate becomes ``{"class_name",
    "config"}``; anything else comes back as it is (and is not written).

    Example:
        >>> from ember.optimizers import RMSprop
        >>> config = keras_optimizer_config(RMSprop(learning_rate=0.1))
        >>> config["class_name"], config["config"]["learning_rate"], config["config"]["rho"]
        ('RMSprop', 0.1, 0.9)
    """
    kind = type(optimizer).__name__
    if not isinstance(optimizer, OptimizerSpec) or kind not in _KERAS_OPTIMIZERS:
        return optimizer
    if optimizer.schedule is not None:
        return optimizer  # a schedule object: not written (Keras' schedules have other names)
    config: dict[str, Any] = {"name": kind.lower(), "learning_rate": optimizer.learning_rate}
    own = inspect.signature(type(optimizer).__init__).parameters
    for name, parameter in own.items():
        if name not in ("self", "learning_rate") and parameter.kind is not parameter.VAR_KEYWORD:
            config[name] = getattr(optimizer, name)
    for name in ("clipnorm", "clipvalue", "global_clipnorm"):
        config[name] = getattr(optimizer, name)
    if optimizer.maximize:  # ember's own argument: only where it changes something
        config["maximize"] = True
    return {"module": "keras.optimizers", "class_name": kind, "config": config}


def _optimizer(value: Any) -> Any:
    if isinstance(value, str):
        OPTIMIZERS.get(value)  # an unknown name fails here
        return value
    kind, config = value["class_name"], value.get("config") or {}
    if kind not in OPTIMIZERS:
        raise ConfigError(f"its optimizer is {kind}, which ember does not have.")
    spec = OPTIMIZERS.get(kind)
    accepted = set(inspect.signature(spec).parameters) | set(CommonArguments.__annotations__)
    arguments = {}
    for key, setting in config.items():
        if (
            setting is None
            or key in _OPTIMIZER_INERT
            or _OPTIMIZER_NEUTRAL.get(key, _UNSET) == setting
        ):
            continue
        if key not in accepted:
            raise ConfigError(f"its optimizer sets {key}={setting!r}, which ember's {kind} lacks.")
        if isinstance(setting, dict):  # a learning-rate schedule object
            raise ConfigError(f"its optimizer's {key} is a Keras {setting.get('class_name')}.")
        arguments[key] = setting
    return spec(**arguments)


def _loss(value: Any) -> tuple[Any, bool]:
    if isinstance(value, str):
        losses.get(value)  # an unknown name fails here
        return value, False
    if isinstance(value, (list, dict)) and all(
        isinstance(item, str) for item in (value.values() if isinstance(value, dict) else value)
    ):
        return value, False  # one loss per output, by name
    if not (isinstance(value, dict) and "class_name" in value):
        raise ConfigError(f"its loss {value!r} is not a name or a Keras loss ember has.")
    kind, config = value["class_name"], value.get("config") or {}
    losses.get(kind)
    for key, setting in config.items():
        if not (setting is None or key in _LOSS_INERT or _LOSS_NEUTRAL.get(key, _UNSET) == setting):
            raise ConfigError(f"its loss {kind} sets {key}={setting!r}, which ember's lacks.")
    return kind, bool(config.get("from_logits", False))


def _metrics(value: Any) -> Any:
    if value is None or isinstance(value, str):
        if value is not None:
            ember_metrics.get(value)
        return value
    if isinstance(value, list):
        return [_metrics(item) for item in value]
    if isinstance(value, dict) and "class_name" in value:
        config = value.get("config") or {}
        if set(config) - {"name", "dtype"}:
            raise ConfigError(f"its metric {value['class_name']} has settings {config}.")
        kind, name = _metrics(value["class_name"]), config.get("name")
        # Keras logs a metric object under its name: keep the name where ember knows it as the
        # same metric (MeanAbsoluteError() is logged as "mean_absolute_error").
        if isinstance(name, str) and name in ember_metrics.METRICS and _same(name, kind):
            return name
        return kind
    if isinstance(value, dict):
        return {key: _metrics(item) for key, item in value.items()}
    raise ConfigError(f"its metric {value!r} is not a name or a Keras metric ember has.")


def _same(name: str, other: str) -> bool:
    def identity(spec: Any) -> tuple:
        return type(spec), spec.metric, spec.average

    return identity(ember_metrics.get(name)) == identity(ember_metrics.get(other))
