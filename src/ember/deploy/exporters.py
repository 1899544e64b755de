"""Export a module to ONNX (torch's ``torch.export``-based exporter) or to a ``.pt2`` program.

Both capture the graph with ``torch.export`` and keep the batch dimension dynamic, so the file
accepts any batch size. ONNX files carry ``metadata`` (strings) in the model's
``metadata_props``: ember records the preprocessing, the input shape and the class names there.
Files are written under a temporary name and renamed, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import traceback
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ember.errors import ExportError
from ember.files import atomic_path

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
) -> Path:
    """Write ``module`` (in eval mode) as an ONNX file with a dynamic batch axis; return its path.

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
    batch = torch.export.Dim("batch", min=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch's internal deprecations
                program = torch.onnx.export(
                    module,
                    (example,),
                    dynamo=True,
                    input_names=[input_name],
                    output_names=[output_name],
                    dynamic_shapes=({0: batch},),
                    opset_version=OPSET,
                    verbose=False,
                )
        except Exception as error:  # torch raises many kinds; each becomes one clear message
            raise _export_error(module, "onnx", error) from error
        model = program.model_proto
        for key, value in (metadata or {}).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = str(key), str(value)
        onnx.save_model(model, temporary)
    return path


def export_pt2(module: nn.Module, example: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write ``module`` as a ``torch.export`` program (``.pt2``) with a dynamic batch axis.

    Load it with ``torch.export.load(path).module()``.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "linear.pt2"
        >>> _ = export_pt2(torch.nn.Linear(3, 2), torch.zeros(4, 3), path)
        >>> torch.export.load(path).module()(torch.zeros(5, 3)).shape
        torch.Size([5, 2])
    """
    module = module.eval()
    batch = torch.export.Dim("batch", min=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
    except Exception as error:
        raise _export_error(module, "pt2", error) from error
    # torch.export.save wants a name ending in .pt2, so the temporary file has one too.
    temporary = path.with_name(f".{path.stem}.partial.pt2")
    try:
        torch.export.save(program, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


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
