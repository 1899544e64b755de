"""A Triton Inference Server model repository for an exported ONNX classifier.

Triton (and any server that reads its layout) loads ``REPOSITORY/NAME/config.pbtxt`` and
``REPOSITORY/NAME/1/model.onnx``: the ONNX Runtime backend, the input and output names, types
and shapes without the batch axis, dynamic batching, and the class names as the output's labels.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from ember import checks
from ember.errors import ConfigError
from ember.files import atomic_path

# The exported input's dtype -> Triton's name for it (text runs take int64 token ids).
TRITON_TYPES = {"float32": "TYPE_FP32", "int64": "TYPE_INT64", "int32": "TYPE_INT32"}


def write_triton_repository(
    onnx_path: Path,
    repository: Path,
    *,
    name: str,
    input_shape: Sequence[int],
    class_names: Sequence[str],
    input_name: str = "inputs",
    output_name: str = "outputs",
    max_batch_size: int = 64,
    max_queue_delay_us: int = 5000,
    input_dtype: str = "float32",
) -> Path:
    """Write the model folder ``repository/name`` for Triton's ONNX Runtime backend; return it.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "m.onnx").write_bytes(b"onnx")
        >>> model = write_triton_repository(folder / "m.onnx", folder / "repo", name="mlp",
        ...                                 input_shape=(28, 28, 1), class_names=["a", "b"])
        >>> print((model / "config.pbtxt").read_text())  # doctest: +ELLIPSIS
        name: "mlp"
        backend: "onnxruntime"
        max_batch_size: 64
        input [
          {
            name: "inputs"
            data_type: TYPE_FP32
            dims: [ 28, 28, 1 ]
          }
        ]
        ...
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(
            f"a Triton model name is letters, digits, '_', '.' and '-', received name={name!r}. "
            f"Fix: --set a simpler name."
        )
    checks.positive_int("max_batch_size", max_batch_size)
    checks.one_of("input_dtype", input_dtype, tuple(TRITON_TYPES), fix="input_dtype='float32'")
    model = Path(repository) / name
    (model / "1").mkdir(parents=True, exist_ok=True)
    with atomic_path(model / "1" / "model.onnx") as temporary:
        shutil.copyfile(onnx_path, temporary)
    with atomic_path(model / "labels.txt") as temporary:
        temporary.write_text("".join(f"{label}\n" for label in class_names))
    dims = ", ".join(str(int(size)) for size in input_shape)
    config = f"""name: "{name}"
backend: "onnxruntime"
max_batch_size: {max_batch_size}
input [
  {{
    name: "{input_name}"
    data_type: {TRITON_TYPES[input_dtype]}
    dims: [ {dims} ]
  }}
]
output [
  {{
    name: "{output_name}"
    data_type: TYPE_FP32
    dims: [ {len(class_names)} ]
    label_filename: "labels.txt"
  }}
]
dynamic_batching {{
  max_queue_delay_microseconds: {max_queue_delay_us}
}}
instance_group [
  {{
    kind: KIND_CPU
  }}
]
"""
    with atomic_path(model / "config.pbtxt") as temporary:
        temporary.write_text(config)
    return model
