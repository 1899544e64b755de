"""``ember export RUN``: a classification run's network as an ONNX or ``.pt2`` file, checked.

The file maps a batch of inputs, preprocessed as in training (images: float32 in [0, 1],
channels last ``(N, H, W, C)``; text: int64 token ids ``(N, T)``, padded with id 0), to class
probabilities ``(N, classes)``. An ONNX file records that, the input shape, the class names, the
run and the versions in its metadata (a ``.pt2`` program inside its archive). Text runs export
with a dynamic sequence axis too, and their tokenizer is written beside the file
(``tokenizer.json``), so that ``ember.Predictor`` can take strings. Each export is checked: ONNX
Runtime (or the exported program) against PyTorch on the run's test inputs, the largest
absolute difference reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ember import checks
from ember.data.test_time import float32_softmax
from ember.deploy.comparison import Measurement, measure, onnx_runner, torch_runner
from ember.deploy.exporters import export_onnx, export_pt2
from ember.deploy.onnx_int8 import quantize_onnx_dynamic, quantize_onnx_static
from ember.errors import ConfigError
from ember.nlp.text_inputs import TOKENIZER_FILE
from ember.runs.training import load_experiment
from ember.version import __version__

FORMATS = ("onnx", "pt2")
CHECK_SAMPLES = 1000  # test inputs the export is compared on
CALIBRATION_SAMPLES = 300  # training inputs that fix int8 activation ranges


class Probabilities(nn.Module):
    """A classifier's network with its softmax, in float32: what an exported model returns."""

    def __init__(self, network: nn.Module, outputs_probabilities: bool) -> None:
        super().__init__()
        self.network = network
        self.outputs_probabilities = outputs_probabilities

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = self.network(inputs)
        return outputs.float() if self.outputs_probabilities else float32_softmax(outputs)


@dataclass
class Export:
    """What ``export_run`` wrote and how close it is to PyTorch."""

    path: Path
    format: str
    max_difference: float  # max |exported - PyTorch| over the checked test inputs
    samples: int  # how many test inputs were compared
    metadata: dict[str, str]
    int8_path: Path | None = None  # --int8: the int8 copy, beside the float32 file
    comparison: list[Measurement] | None = None  # --int8: eager, ONNX fp32 and int8 side by side


def export_run(
    run_dir: Path,
    format: str = "onnx",
    *,
    out: Path | None = None,
    which: str = "last",
    int8: bool = False,
) -> Export:
    """Export ``run_dir``'s ``which`` checkpoint to ``out`` (default ``RUN/export/model.FORMAT``).

    ``int8`` (ONNX only) also writes ``model.int8.onnx`` beside it, quantized by ONNX Runtime
    (images: static, with 300 training inputs for calibration; text: dynamic), and measures
    PyTorch eager, ONNX Runtime float32 and int8 side by side on the test inputs
    (:mod:`ember.deploy.comparison`).

    Example (a finished ``fashion-cnn`` run):
        >>> export = export_run(Path("runs/fashion-cnn-run"), "onnx")  # doctest: +SKIP
        >>> export.max_difference < 1e-4  # doctest: +SKIP
        True
    """
    checks.one_of("format", format, FORMATS, fix="--format onnx (or pt2)")
    if int8 and format != "onnx":
        raise ConfigError(
            "--int8 quantizes ONNX files (with ONNX Runtime's quantizer), received --format "
            f"{format}. Fix: ember export RUN --format onnx --int8."
        )
    classifier = load_classifier(run_dir, which)
    module, inputs = classifier.module, classifier.inputs
    path = Path(out) if out is not None else Path(run_dir) / "export" / f"model.{format}"
    metadata = run_metadata(Path(run_dir), classifier, which)
    example = inputs[:2].cpu().clone()  # a view would carry the whole test set into .pt2
    axes = ("batch", "steps") if classifier.takes_token_ids else ("batch",)
    if format == "onnx":
        export_onnx(module, example, path, metadata=metadata, dynamic_axes=axes)
        run_exported = _onnx_runner(path)
    else:
        export_pt2(module, example, path, metadata=metadata, dynamic_axes=axes)
        program = torch.export.load(path).module()
        run_exported = lambda batch: program(batch).detach()  # noqa: E731
    if classifier.takes_token_ids:
        save_tokenizer(classifier, path.with_name(TOKENIZER_FILE))
    checked = inputs[:CHECK_SAMPLES].cpu()
    with torch.inference_mode():
        expected = torch.cat([module(part) for part in checked.split(256)])
    received = torch.cat([torch.as_tensor(run_exported(part)) for part in checked.split(256)])
    difference = (received - expected).abs().max().item()
    export = Export(path, format, difference, len(checked), metadata)
    if int8:
        _add_int8(export, classifier)
    return export


@dataclass
class Classifier:
    """A run's classifier, ready to export or quantize."""

    experiment: Any
    checkpoint: Any
    module: Probabilities  # on the CPU, in eval mode
    inputs: torch.Tensor  # the test inputs (or validation, or training, when a run has no test)

    @property
    def labels(self) -> torch.Tensor:
        data = self.experiment.data
        return (data.test if data.test is not None else data.val or data.train)[1]

    @property
    def takes_token_ids(self) -> bool:
        """Whether the network reads integer token ids (a text run) rather than floats."""
        return not self.inputs.is_floating_point()


def load_classifier(run_dir: Path, which: str = "last", *, int8: bool = False) -> Classifier:
    """The ``which`` checkpoint of a classification run, refused early when it is not one (or,
    with ``int8`` calibrated on inputs, when its inputs are token ids)."""
    experiment, checkpoint = load_experiment(run_dir, which)
    if experiment.evaluation != "classification":
        raise ConfigError(
            f"{run_dir} is not a classification run (its evaluation is "
            f"{experiment.evaluation!r}); ember exports classifiers (images or text). Fix: "
            f"export the network yourself with ember.deploy.export_onnx(module, example, path)."
        )
    data = experiment.data
    inputs = (data.test if data.test is not None else data.val or data.train)[0]
    if int8 and not inputs.is_floating_point():
        raise ConfigError(
            f"static and quantization-aware int8 calibrate on float inputs (images); {run_dir} "
            f"takes {inputs.dtype} token ids. Fix: ember quantize RUN --method dynamic (int8 "
            f"weights, nothing to calibrate), or ember export RUN --int8."
        )
    module = Probabilities(experiment.network.cpu(), experiment.outputs_probabilities).eval()
    return Classifier(experiment, checkpoint, module, inputs)


def calibration_inputs(classifier: Classifier, count: int = CALIBRATION_SAMPLES) -> torch.Tensor:
    """``count`` training inputs picked at random (seed 0): what fixes int8 activation ranges."""
    train = classifier.experiment.data.train[0]
    picked = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:count]
    return train[picked].cpu()


def save_tokenizer(classifier: Classifier, path: Path) -> None:
    """The run's tokenizer as JSON (``ember.nlp.load_tokenizer`` reads it back)."""
    tokenizer = classifier.experiment.tokenizer
    if tokenizer is not None:
        tokenizer.save(path)


def _add_int8(export: Export, classifier: Classifier) -> None:
    int8_path = export.path.with_name(export.path.name.removesuffix(".onnx") + ".int8.onnx")
    if classifier.takes_token_ids:  # ids have no range to calibrate: int8 weights, dynamic
        quantize_onnx_dynamic(export.path, int8_path)
    else:
        quantize_onnx_static(export.path, int8_path, calibration_inputs(classifier).numpy())
    module, inputs, labels = classifier.module, classifier.inputs, classifier.labels
    export.int8_path = int8_path
    export.comparison = measure(
        {
            "torch fp32": (torch_runner(module), None),
            "onnx fp32": (onnx_runner(export.path), export.path.stat().st_size),
            "onnx int8": (onnx_runner(int8_path), int8_path.stat().st_size),
        },
        inputs.cpu().numpy(),
        labels.cpu().numpy(),
    )


def _onnx_runner(path: Path) -> Any:
    import onnxruntime  # heavy; only here

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch.numpy()})[0]


def run_metadata(run: Path, classifier: Classifier, which: str) -> dict[str, str]:
    """What an exported file records: preprocessing, input shape, classes, run, versions."""
    experiment, inputs, epoch = (
        classifier.experiment,
        classifier.inputs,
        classifier.checkpoint.epoch,
    )
    images = inputs.is_floating_point()
    preprocessing = (
        "images as float32 in [0, 1], channels last (N, H, W, C)"
        if images
        else f"token ids (int64, N, T) from the run's tokenizer ({TOKENIZER_FILE} beside this "
        f"file), right-padded with 0 to {inputs.shape[1]} (any T works)"
    )
    return {
        "ember_version": __version__,
        "torch_version": torch.__version__,
        "run": run.name,
        "checkpoint": f"{which} (epoch {epoch})",
        "input_shape": json.dumps([None, *experiment.data.input_shape]),
        "input_dtype": str(inputs.dtype).removeprefix("torch."),
        "preprocessing": preprocessing,
        "outputs": "class probabilities (N, classes)",
        "class_names": json.dumps(list(experiment.data.class_names)),
    }
