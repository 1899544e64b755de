"""Int8 in PyTorch itself: torchao's PT2E flow with the x86 (oneDNN) quantizer.

Three methods, all on a graph captured with ``torch.export`` (strict, so that each convolution and
``Dense`` is recognised whatever module holds it) with a dynamic batch axis:

* ``"static"``: int8 weights (per output channel) and int8 activations whose ranges are measured
  on a few hundred calibration inputs (:func:`quantize`);
* ``"dynamic"``: int8 weights, activations quantized per batch from their own range (no
  calibration; :func:`quantize`);
* ``"qat"``: quantization-aware training. :func:`prepare_qat` inserts fake-quantize steps that
  the network is fine-tuned through (:class:`ember.tasks.QuantizationAware` on the engine), then
  :func:`convert` makes it int8.

A converted graph (reference int8: quantize, int8 weights, dequantize around float ops) is what
:func:`save` writes; :class:`Compiled` runs it fast: inductor fuses the quantize steps into
oneDNN's int8 kernels (``qconv``, ``qlinear``). torch's own ``torch.ao.quantization`` is deprecated in
torch 2.13; docs/architecture.md says why this path was chosen.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    >>> calibration = torch.randn(64, 16)
    >>> int8 = Compiled(quantize(net, calibration[:8], "static", calibration))
    >>> int8(torch.randn(5, 16)).shape
    torch.Size([5, 4])
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError
from ember.files import atomic_path

METHODS = ("dynamic", "static", "qat")
# What the x86 quantizer makes int8: convolutions and Dense (matrix multiplies) for static and
# QAT; dynamic (activation ranges measured per batch) is for Dense layers, as torch documents it.
QUANTIZABLE = {
    "static": (torch.ops.aten.conv2d.default, torch.ops.aten.linear.default),
    "qat": (torch.ops.aten.conv2d.default, torch.ops.aten.linear.default),
    "dynamic": (torch.ops.aten.linear.default,),
}
METADATA_FILE = "ember.json"  # inside a saved .pt2: input shape, classes, how it was quantized
# torch's and torchao's own internals warn about themselves while quantizing, compiling and
# saving int8 graphs; none of it is about the user's model or anything they can change.
for _message in (
    "To copy construct from a tensor",  # inductor's oneDNN lowering
    "The input of maxpool2d is not quantized",  # the quantizer leaves such a pooling in float
    "No complete tensor found in the group",  # torch.export.save of int8 constants
):
    warnings.filterwarnings("ignore", message=_message, category=UserWarning)


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def torchao() -> SimpleNamespace:
    """torchao's PT2E entry points, imported on first use.

    torchao's wheel carries CUDA extensions that cannot load beside a CPU torch; it logs a
    warning for each, and torch warns about one of its enums. Neither concerns int8 on the CPU.
    """
    with _quiet_loggers("torchao", "torch.utils._pytree"):
        import torchao.quantization.pt2e as pt2e
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as x86
        from torchao.quantization.pt2e.quantize_pt2e import (
            convert_pt2e,
            prepare_pt2e,
            prepare_qat_pt2e,
        )
    return SimpleNamespace(
        x86=x86,
        prepare=prepare_pt2e,
        prepare_qat=prepare_qat_pt2e,
        convert=convert_pt2e,
        allow_train_eval=pt2e.allow_exported_model_train_eval,
        to_eval=pt2e.move_exported_model_to_eval,
    )


def _batch_axis() -> tuple[dict[int, Any]]:
    return ({0: torch.export.Dim("batch", min=1)},)


def capture(module: nn.Module, example: torch.Tensor, method: str) -> torch.fx.GraphModule:
    """``module``'s graph (``torch.export``, strict, dynamic batch), checked to hold something the
    method makes int8."""
    checks.one_of("method", method, METHODS, fix="method='static' (or 'dynamic', 'qat')")
    module.eval()
    with torch.no_grad():
        module(example)  # builds lazy layers before the graph is captured
    graph = torch.export.export(module, (example,), dynamic_shapes=_batch_axis(), strict=True)
    graph = graph.module()
    _drop_layout_round_trips(graph)
    found = {node.target for node in graph.graph.nodes} & set(QUANTIZABLE[method])
    if not found:
        kinds = "Dense or convolution" if method != "dynamic" else "Dense"
        raise ConfigError(
            f"{type(module).__name__} has no layer that {method} int8 quantizes: it has no "
            f"{kinds} layer (no {', '.join(str(t) for t in QUANTIZABLE[method])}). Fix: quantize "
            f"a network with such layers, or keep it in float32."
        )
    return graph


_TO_LAST = ((1, -1), (1, 3))  # movedim(x, 1, -1): channels first -> last (4-D)
_TO_FIRST = ((-1, 1), (3, 1))
_PASS_THROUGH = {torch.ops.aten.relu.default, torch.ops.aten.relu_.default}


def _movedim(node: torch.fx.Node, moves: tuple[tuple[int, int], ...]) -> bool:
    return node.target == torch.ops.aten.movedim.int and tuple(node.args[1:3]) in moves


def _drop_layout_round_trips(graph: torch.fx.GraphModule) -> None:
    """Remove each channels-last -> channels-first round trip between layers.

    ember's layers take channels-last images and run torch's channels-first kernels, so a
    convolution, its ReLU and the pooling after it meet as ``movedim`` pairs. Between int8
    kernels each pair would cost a dequantize and a quantize, and it hides conv + ReLU + pooling
    from the quantizer's fusion patterns. ReLU acts elementwise, so it moves across a pair.
    """
    for node in list(graph.graph.nodes):
        if not _movedim(node, _TO_FIRST):
            continue
        middle = node.args[0]
        relu = None
        if middle.target in _PASS_THROUGH and len(middle.users) == 1:
            relu, middle = middle, middle.args[0]
        if not _movedim(middle, _TO_LAST) or len(middle.users) != 1:
            continue
        source = middle.args[0]
        if relu is not None:
            relu.replace_input_with(middle, source)
            node.replace_all_uses_with(relu)
        else:
            node.replace_all_uses_with(source)
    graph.graph.eliminate_dead_code()
    graph.recompile()


def _quantizer(method: str) -> Any:
    x86 = torchao().x86
    quantizer = x86.X86InductorQuantizer()
    config = x86.get_default_x86_inductor_quantization_config(
        is_qat=method == "qat", is_dynamic=method == "dynamic"
    )
    if method == "dynamic":  # Dense only: dynamic activation ranges suit matrix multiplies
        return quantizer.set_function_type_qconfig(torch.nn.functional.linear, config)
    return quantizer.set_global(config)


def quantize(
    module: nn.Module,
    example: torch.Tensor,
    method: str = "static",
    calibration: torch.Tensor | None = None,
    *,
    batch_size: int = 64,
) -> torch.fx.GraphModule:
    """An int8 copy of ``module`` (``"static"`` or ``"dynamic"``), as a converted graph.

    ``example`` is a small batch of inputs as the module takes them; ``static`` measures its
    activation ranges on ``calibration`` (a few hundred such inputs).
    """
    checks.one_of("method", method, METHODS, fix="method='static' (or 'dynamic', 'qat')")
    if method == "qat":
        raise ConfigError(
            "quantization-aware training fine-tunes the network first. Fix: "
            "prepare_qat(module, example), train it (ember.tasks.QuantizationAware), then "
            "convert(prepared)."
        )
    if method == "static":
        if calibration is None:
            raise ConfigError(
                "static int8 measures activation ranges on calibration inputs. Fix: pass "
                "calibration= a few hundred training inputs, or method='dynamic'."
            )
        check_calibration(calibration, example)
    graph = capture(module, example, method)
    prepared = torchao().prepare(graph, _quantizer(method))
    with torch.no_grad():
        for part in (calibration if method == "static" else example).split(batch_size):
            prepared(part)
    return convert(prepared)


def check_calibration(calibration: torch.Tensor, example: torch.Tensor) -> None:
    """Raise :class:`ember.ShapeError` unless ``calibration`` holds inputs shaped like ``example``."""
    if tuple(calibration.shape[1:]) != tuple(example.shape[1:]) or len(calibration) == 0:
        raise ShapeError(
            f"calibration inputs of shape {tuple(calibration.shape)} do not fit the model's "
            f"input (N, {', '.join(map(str, example.shape[1:]))}). Fix: calibrate on inputs "
            f"preprocessed as for the model, e.g. a few hundred training images."
        )
    if calibration.dtype != example.dtype:
        raise ShapeError(
            f"calibration inputs are {calibration.dtype}, the model takes {example.dtype}. "
            f"Fix: preprocess them as in training."
        )


def prepare_qat(module: nn.Module, example: torch.Tensor) -> torch.fx.GraphModule:
    """``module``'s graph with fake-quantize steps to fine-tune through (quantization-aware
    training); ``.train()`` and ``.eval()`` work on it. Dropout and augmentation layers are
    captured in their inference form, so fine-tuning runs without them."""
    graph = capture(copy.deepcopy(module), example, "qat")  # fine-tuning leaves module as it was
    prepared = torchao().prepare_qat(graph, _quantizer("qat"))
    torchao().allow_train_eval(prepared)
    return prepared


def convert(prepared: torch.fx.GraphModule) -> torch.fx.GraphModule:
    """The int8 graph of a prepared (calibrated or fine-tuned) one, without the float weights that
    the int8 ones replaced (``convert_pt2e`` keeps them, which would make the file larger)."""
    torchao().to_eval(prepared)
    converted = torchao().convert(prepared)
    used = {node.target for node in converted.graph.nodes if node.op == "get_attr"}
    for name in [name for name, _ in converted.named_parameters()]:
        if name not in used:
            owner, _, attribute = name.rpartition(".")
            delattr(converted.get_submodule(owner) if owner else converted, attribute)
    return converted


class Compiled:
    """A module compiled by inductor for inference (a converted int8 graph: onto oneDNN's int8
    kernels); call it on a batch.

    Each batch is padded up to the next of a few fixed sizes (``BUCKETS``; larger batches run in
    chunks of the largest), and each size is compiled once, on first use, with freezing (the
    weights become constants, and the int8 patterns fuse). Shapes stay static because inductor's
    dynamic-shape path for quantized convolutions fails on torch 2.13 (a stride assertion at a
    third batch size).
    """

    BUCKETS = (1, 4, 16, 64, 256)

    def __init__(self, module: nn.Module) -> None:
        if not isinstance(module, torch.fx.GraphModule):  # exported graphs are in eval form
            module.eval()
        self.module = module
        self._compiled = torch.compile(module, dynamic=False)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        largest = self.BUCKETS[-1]
        if len(batch) > largest:
            return torch.cat([self(part) for part in batch.split(largest)])
        size = next(b for b in self.BUCKETS if b >= len(batch))
        padded = batch
        if size > len(batch):
            padded = torch.cat([batch, batch.new_zeros((size - len(batch), *batch.shape[1:]))])
        with torch.inference_mode(), torch._inductor.config.patch(freezing=True):
            return self._compiled(padded.contiguous())[: len(batch)]


def save(
    converted: torch.fx.GraphModule,
    example: torch.Tensor,
    path: str | os.PathLike,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a converted graph as a ``.pt2`` program (int8 weights; any batch size), with
    ``metadata`` (JSON) inside it; :func:`load` reads it back, lowered."""
    example = example[:2].clone()  # a view would carry its whole base tensor into the file
    program = torch.export.export(converted, (example,), dynamic_shapes=_batch_axis())
    buffer = io.BytesIO()  # written in memory first, so the archive is named for nothing partial
    torch.export.save(program, buffer, extra_files={METADATA_FILE: json.dumps(metadata or {})})
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return path


def read(path: str | os.PathLike) -> tuple[torch.export.ExportedProgram, dict[str, Any]]:
    """Any ``.pt2`` program (int8 ones included) and the metadata :func:`save` put inside it
    (``{}`` for other programs)."""
    torchao()  # registers the quantize/dequantize operators an int8 program calls
    files = {METADATA_FILE: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch's own pytree deprecation
        program = torch.export.load(path, extra_files=files)
    return program, json.loads(files[METADATA_FILE] or "{}")


def load(path: str | os.PathLike) -> tuple[Compiled, dict[str, Any]]:
    """A ``.pt2`` written by :func:`save`, ready to run (:class:`Compiled`), and its metadata."""
    program, metadata = read(path)
    return Compiled(program.module()), metadata


def is_quantized(program: torch.export.ExportedProgram) -> bool:
    """Whether a loaded ``.pt2`` program holds PT2E int8 (quantize/dequantize) operators."""
    return any(
        "quantize" in str(node.target) for node in program.graph.nodes if node.op == "call_function"
    )
