"""Export a module to ONNX (torch's ``torch.export``-based exporter) or to a ``.pt2`` program.

Both capture the graph with ``torch.export`` and keep the leading axes named in ``dynamic_axes``
dynamic (the batch by default; ``("batch", "steps")`` for token ids), so the file accepts any
batch size (and sequence length). ONNX files carry ``metadata`` (strings) in the model's
``metadata_props``: ember records the preprocessing, the input shape and the class names there.
Files are written under a temporary name and renamed, so a failed export leaves nothing behind.

Recurrent layers: ``torch.export`` alone unrolls ``aten.lstm``/``aten.gru`` step by step, which
fixes the sequence length; torch's ONNX exporter avoids that by registering its while-loop
decompositions of the two (``torch.export._patches``) while it captures, and :func:`export_pt2`
does the same, so that the program keeps one ``aten.lstm`` (the fused kernel) and a dynamic
sequence axis.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import traceback
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.export._patches import (
    register_gru_while_loop_decomposition,
    register_lstm_while_loop_decomposition,
)

from ember.errors import ExportError
from ember.files import atomic_path
from ember.layers.recurrent_masks import every_step
from ember.quantization import METADATA_FILE

OPSET = 18  # the torch.export-based exporter's default in torch 2.13
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the exporter colours its messages for terminals


def export_onnx(
    module: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, str] | None = None,
    input_name: str = "inputs",
    output_name: str = "outputs",
    dynamic_axes: tuple[str, ...] = ("batch",),
) -> Path:
    """Write ``module`` (in eval mode) as an ONNX file whose leading axes named in
    ``dynamic_axes`` take any size (the batch by default); return its path.

    Example:
        >>> import tempfile, onnxruntime
        >>> path = Path(tempfile.mkdtemp()) / "linear.onnx"
        >>> _ = export_onnx(torch.nn.Linear(3, 2), torch.zeros(4, 3), path, metadata={"a": "b"})
        >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        >>> session.run(None, {"inputs": torch.zeros(7, 3).numpy()})[0].shape
        (7, 2)
    """
    import onnx  # with the exporter's onnxscript: heavy, and needed only here

    module = module.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:

        def export() -> Any:
            with warnings.catch_warnings(), whole_recurrent_kernels():
                _quiet_torch_internals()
                return torch.onnx.export(
                    module,
                    (example,),
                    dynamo=True,
                    input_names=[input_name],
                    output_names=[output_name],
                    dynamic_shapes=_dynamic_shapes(dynamic_axes),
                    opset_version=OPSET,
                    verbose=False,
                )

        try:
            try:
                program = export()
            except Exception:
                # Recurrent layers cut a masked batch to its longest sequence, a length the
                # exporter fails on before a scan (SimpleRNN) on torch 2.13: every step then.
                with every_step():
                    program = export()
        except Exception as error:  # torch raises many kinds; each becomes one clear message
            raise _export_error(module, "onnx", error) from error
        model = program.model_proto
        _check_dynamic(module, model.graph.input[0], dynamic_axes)
        for key, value in (metadata or {}).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = str(key), str(value)
        onnx.save_model(model, temporary)
    return path


def export_pt2(
    module: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, str] | None = None,
    dynamic_axes: tuple[str, ...] = ("batch",),
) -> Path:
    """Write ``module`` as a ``torch.export`` program (``.pt2``) whose leading axes named in
    ``dynamic_axes`` take any size (the batch by default; the others from 2, because torch's
    while-loop LSTM and GRU take no shorter sequence). ``metadata`` goes inside the archive
    (``ember.quantization.read`` returns it).

    Load it with ``torch.export.load(path).module()``.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "linear.pt2"
        >>> _ = export_pt2(torch.nn.Linear(3, 2), torch.zeros(4, 3), path)
        >>> torch.export.load(path).module()(torch.zeros(5, 3)).shape
        torch.Size([5, 2])
    """
    module = module.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings(), whole_recurrent_kernels():
            _quiet_torch_internals()
            program = torch.export.export(  # the while loops' sizes start at 2 (torch 2.13)
                module, (example,), dynamic_shapes=_dynamic_shapes(dynamic_axes, shortest=2)
            )
    except Exception as error:
        raise _export_error(module, "pt2", error) from error
    # torch.export.save wants a name ending in .pt2, so the temporary file has one too.
    temporary = path.with_name(f".{path.stem}.partial.pt2")
    try:
        extra_files = {METADATA_FILE: json.dumps(dict(metadata or {}))}
        torch.export.save(program, temporary, extra_files=extra_files)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _quiet_torch_internals() -> None:
    """Inside ``warnings.catch_warnings()``: silence what torch warns about itself."""
    warnings.simplefilter("ignore", FutureWarning)  # torch's internal deprecations
    # nn.LSTM/GRU refresh their _flat_weights list during tracing; export handles it.
    warnings.filterwarnings("ignore", message="The tensor attributes .*_flat_weights")


_RECURRENT_OPS = (torch.ops.aten.lstm.input, torch.ops.aten.gru.input)


@contextlib.contextmanager
def whole_recurrent_kernels() -> Iterator[None]:
    """Within it, ``torch.export`` keeps ``aten.lstm``/``aten.gru`` whole with a dynamic length.

    torch's while-loop decompositions (what the ONNX exporter registers while it captures) are
    registered as the operators' Python kernels; torch 2.13 does not clear the operators'
    dispatch caches when it swaps them, so after one export in a process a later one would find
    the cached step-by-step kernel again and fix the length. The caches are cleared both ways.
    """
    for operator in _RECURRENT_OPS:
        operator._dispatch_cache.clear()
    try:
        with register_lstm_while_loop_decomposition(), register_gru_while_loop_decomposition():
            for operator in _RECURRENT_OPS:
                operator._dispatch_cache.clear()
            yield
    finally:
        for operator in _RECURRENT_OPS:
            operator._dispatch_cache.clear()


def _dynamic_shapes(axes: tuple[str, ...], shortest: int = 1) -> tuple[dict[int, torch.export.Dim]]:
    """The batch axis from 1, the others from ``shortest``."""
    return (
        {i: torch.export.Dim(name, min=1 if i == 0 else shortest) for i, name in enumerate(axes)},
    )


def _check_dynamic(module: nn.Module, graph_input: Any, axes: tuple[str, ...]) -> None:
    """The ONNX exporter quietly fixes an axis that the network fixes; refuse such a file."""
    dims = graph_input.type.tensor_type.shape.dim
    fixed = [(name, dims[i].dim_value) for i, name in enumerate(axes) if dims[i].dim_value]
    if fixed:
        name, size = fixed[0]
        raise ExportError(
            f"could not export {type(module).__name__} to onnx with a dynamic {name} axis: the "
            f"network fixes it at {size} (a Flatten or a Reshape after it, or a recurrent "
            f"layer torch unrolls). Fix: export with dynamic_axes={axes[: axes.index(name)]}, "
            f"or make that layer take any {name} size."
        )


def _export_error(module: nn.Module, kind: str, error: Exception) -> ExportError:
    """The exporter's first complaint, where it happened in ember's or the user's code, and the
    other way to export."""
    cause = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__
    text = ANSI.sub("", str(cause)).strip()
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    where = ""
    frames = traceback.extract_tb(cause.__traceback__)
    mine = [f for f in frames if "site-packages" not in f.filename or "/ember/" in f.filename]
    if mine:
        where = f" (at {Path(mine[-1].filename).name}:{mine[-1].lineno}: {mine[-1].line})"
    other = "--format pt2 (torch.export alone)" if kind == "onnx" else "--format onnx"
    return ExportError(
        f"could not export {type(module).__name__} to {kind}: {type(cause).__name__}: "
        f"{first_line[:300]}{where}. Fix: make the forward pass traceable by torch.export (no "
        f"Python branches on tensor values, torch.cond for those; sizes from x.shape, not from "
        f"tensor values), or try {other}; the run's checkpoint still serves `ember predict`."
    )
