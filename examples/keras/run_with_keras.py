"""Run an example of examples/keras/ under Keras 3 (torch backend), or under ember, the same way.

Each example imports ember between two marker lines (``IMPORTS_START``, ``IMPORTS_END``). For
Keras, :func:`keras_source` swaps ``ember`` for ``keras`` in those lines only (``import ember as
keras`` becomes ``import keras``, ``from ember.datasets import mnist`` becomes ``from
keras.datasets import mnist``; lines that import no ember module, such as ``from _data import
...`` helpers, stay), and turns ``# keras: CODE`` comment lines back into ``CODE`` (the Keras-only
lines of a ``train_step``, see custom_train_step.py). Keras' MNIST, Fashion-MNIST and CIFAR-10
loaders download; there is no internet here, so :func:`use_local_datasets` points them at
ember's local files, and both frameworks train on the same data.

For quick runs, :func:`limited` wraps ``fit``/``evaluate``/``predict`` so that they see only the
first ``fraction`` of each array they are given and train at most ``max_epochs`` epochs; both
frameworks get the same wrapper.

    python examples/keras/run_with_keras.py examples/keras/mnist_convnet.py
    python examples/keras/run_with_keras.py examples/keras/mnist_convnet.py --framework ember
    python examples/keras/run_with_keras.py X.py --fraction 0.1 --max-epochs 1 --result out.json

The result (``--result``) is JSON: the example's final number (see :func:`final_metric`) and the
seconds spent running the example's code (imports of the frameworks included).
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

IMPORTS_START = "# --- imports: the only lines that differ from the Keras original ---"
IMPORTS_END = "# --- end of imports ---"
KERAS_LINE = re.compile(r"^(\s*)# keras: ?(.*)$")
EMBER_IMPORT = re.compile(r"^(\s*)(import|from)\s+ember(?=[\s.]|$)")
# Module-level names an example leaves its final number in, most telling first (a list from
# evaluate() gives its second value, the first metric after the loss, when it has one).
RESULT_NAMES = (
    "test_acc",
    "test_accuracy",
    "score",
    "test_scores",
    "scores",
    "test_mse",
    "test_loss",
    "denoise_history",
    "history",
)
LOCAL_DATASETS = ("mnist", "fashion_mnist", "cifar10")


def keras_source(source: str) -> str:
    """The example's source as Keras code: ``ember`` swapped for ``keras`` in the import block,
    ``# keras:`` lines uncommented; raises ``ValueError`` for a file without the import block or
    with an ember import outside it.

    Example:
        >>> text = f"{IMPORTS_START}\\nimport ember as keras\\nfrom ember import layers\\n"
        >>> text += f"{IMPORTS_END}\\nx = 1\\n    # keras: loss.backward()\\n"
        >>> print(keras_source(text))
        # --- imports: the only lines that differ from the Keras original ---
        import keras
        from keras import layers
        # --- end of imports ---
        x = 1
            loss.backward()
        <BLANKLINE>
    """
    lines = source.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if stripped.count(IMPORTS_START) != 1 or stripped.count(IMPORTS_END) != 1:
        raise ValueError(
            f"an example needs exactly one import block, from the line {IMPORTS_START!r} to "
            f"the line {IMPORTS_END!r}; found {stripped.count(IMPORTS_START)} start and "
            f"{stripped.count(IMPORTS_END)} end lines. Fix: put the ember imports between them."
        )
    start, end = stripped.index(IMPORTS_START), stripped.index(IMPORTS_END)
    converted = []
    for number, line in enumerate(lines):
        if start < number < end:
            line = _keras_import(line)
        elif EMBER_IMPORT.match(line):
            raise ValueError(
                f"line {number + 1} imports ember outside the import block: {line.strip()!r}. "
                f"Fix: move it between {IMPORTS_START!r} and {IMPORTS_END!r}."
            )
        else:
            match = KERAS_LINE.match(line)
            if match is not None:
                line = match.group(1) + match.group(2) + "\n"
        converted.append(line)
    return "".join(converted)


def _keras_import(line: str) -> str:
    if not EMBER_IMPORT.match(line):
        return line  # numpy, or a data helper from _data.py: the same under both frameworks
    line = re.sub(r"\bember\b", "keras", line, count=1)
    return re.sub(r"^(\s*)import keras as keras\b", r"\1import keras", line)


def limited(method: Callable, fraction: float = 1.0, max_epochs: int | None = None) -> Callable:
    """``method`` (a model's ``fit``, ``evaluate`` or ``predict``) seeing only the first
    ``fraction`` of each array it is given (x, y, sample weights, validation data; at least one
    row), and training at most ``max_epochs`` epochs. Data that is not arrays (a dataset, a
    generator) passes unchanged.

    Example:
        >>> import numpy as np
        >>> def fit(self, x=None, y=None, epochs=1, validation_data=None):
        ...     return len(x), len(validation_data[0]), epochs
        >>> quick = limited(fit, fraction=0.1, max_epochs=2)
        >>> quick(None, np.zeros(100), np.zeros(100), epochs=15, validation_data=([0] * 30, None))
        (10, 3, 2)
    """
    signature = inspect.signature(method)

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        arguments = bound.arguments
        for name in ("x", "y", "sample_weight", "validation_data"):
            if arguments.get(name) is not None and fraction < 1.0:
                arguments[name] = _first(arguments[name], fraction)
        if max_epochs is not None and "epochs" in signature.parameters:
            epochs = arguments.get("epochs", signature.parameters["epochs"].default)
            arguments["epochs"] = min(epochs, max_epochs)
        return method(*bound.args, **bound.kwargs)

    return wrapper


def _first(data: Any, fraction: float) -> Any:
    if isinstance(data, dict):
        return {key: _first(value, fraction) for key, value in data.items()}
    if isinstance(data, tuple) or (isinstance(data, list) and _is_structure(data)):
        return type(data)(_first(item, fraction) for item in data)
    if isinstance(data, list) or hasattr(data, "shape"):
        return data[: max(1, math.ceil(len(data) * fraction))]
    return data


def _is_structure(data: list) -> bool:
    """A list of arrays (several inputs) or of lists of strings (several text inputs) holds
    inputs; a list of strings, numbers or token-id lists is data rows."""
    if any(hasattr(item, "shape") or isinstance(item, dict) for item in data):
        return True
    return bool(data) and all(
        isinstance(item, list) and bool(item) and isinstance(item[0], str) for item in data
    )


def use_local_datasets(keras: Any) -> None:
    """Point ``keras.datasets.{mnist,fashion_mnist,cifar10}.load_data`` at ember's loaders."""
    from ember import datasets

    for name in LOCAL_DATASETS:
        getattr(keras.datasets, name).load_data = getattr(datasets, name).load_data


def final_metric(namespace: dict[str, Any]) -> tuple[str, float] | None:
    """The example's final number: the first of ``RESULT_NAMES`` it defines, as ``(label,
    value)``; a History gives its last ``val_loss`` (else ``loss``).

    Example:
        >>> final_metric({"score": [0.03, 0.99], "history": None})
        ('score[1]', 0.99)
    """
    for name in RESULT_NAMES:
        value = namespace.get(name)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            index = 1 if len(value) > 1 else 0
            return f"{name}[{index}]", float(value[index])
        logs = getattr(value, "history", None)
        if isinstance(logs, dict):
            key = "val_loss" if logs.get("val_loss") else "loss"
            return f"{name} {key}", float(logs[key][-1])
        try:
            return name, float(value)
        except (TypeError, ValueError):
            continue
    return None


def run(
    path: str | Path,
    framework: str = "keras",
    fraction: float = 1.0,
    max_epochs: int | None = None,
) -> dict[str, Any]:
    """Run the example at ``path`` under ``framework`` ("keras" or "ember") in this process;
    return its final number and the seconds it took."""
    path = Path(path).resolve()
    source = path.read_text(encoding="utf-8")
    started = time.perf_counter()
    if framework == "keras":
        os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: it reads it once
        import keras

        source = keras_source(source)
        use_local_datasets(keras)
        model_class = keras.Model
    elif framework == "ember":
        from ember.models.model import Model as model_class
    else:
        raise ValueError(f"framework must be 'keras' or 'ember', received {framework!r}")
    for name in ("fit", "evaluate", "predict"):
        method = getattr(model_class, name)
        setattr(model_class, name, limited(method, fraction, max_epochs))
    sys.path.insert(0, str(path.parent))  # the examples' shared _data.py
    namespace = {"__name__": "__main__", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    seconds = time.perf_counter() - started
    metric = final_metric(namespace)
    return {
        "example": path.stem,
        "framework": framework,
        "seconds": seconds,
        "metric": None if metric is None else metric[0],
        "value": None if metric is None else metric[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", help="path of the example, e.g. examples/keras/mnist_convnet.py")
    parser.add_argument("--framework", choices=["keras", "ember"], default="keras")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the data (0, 1]")
    parser.add_argument("--max-epochs", type=int, default=None, help="cap on every fit's epochs")
    parser.add_argument("--result", help="write the result here as JSON")
    args = parser.parse_args()
    if not 0.0 < args.fraction <= 1.0:
        parser.error(f"--fraction must be in (0, 1], received {args.fraction}")
    result = run(args.example, args.framework, args.fraction, args.max_epochs)
    print(json.dumps(result), flush=True)
    if args.result:
        Path(args.result).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
