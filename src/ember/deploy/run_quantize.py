"""``ember quantize RUN --method dynamic|static|qat``: an int8 copy of a run's classifier, measured.

For image runs the int8 network comes from PyTorch's own int8 path (torchao's PT2E flow with the
x86 quantizer, :mod:`ember.quantization`): ``static`` calibrates activation ranges on 300
training images, ``dynamic`` quantizes the Dense layers with per-batch activation ranges, ``qat``
fine-tunes the network through int8 rounding on the engine (:class:`ember.tasks.QuantizationAware`)
first. The run's ONNX export and ONNX Runtime's static int8 are measured in the same table, so
that every path is compared with float32 eager and with float32 in its own runtime, at batch 1
and 64.

Text runs (token ids: ``sentiment-*``) take ``dynamic`` only, through ONNX Runtime: neither PT2E
nor torchao quantizes an LSTM, while ONNX Runtime's ``quantize_dynamic`` turns the exported
``LSTM`` into its int8 ``DynamicQuantizeLSTM`` (docs/architecture.md has the measurements behind
the choice). Their table is measured on the validation snippets, with the validation loss.

A new folder, ``RUN/quantized-<method>/`` unless ``out`` says otherwise, holds:

* ``model.int8.pt2``: the int8 program (``ember.Predictor`` and ``ember.quantization.load`` run it
  on oneDNN's int8 kernels), with the run's input shape, classes and preprocessing inside;
* ``model.onnx`` and ``model.int8.onnx`` (with ``onnx=True``; text runs: always, no ``.pt2``,
  and ``tokenizer.json``);
* ``comparison.txt``: the table, and which path to use at each batch size;
* ``quantization.json``: the method, its settings, the source run and checkpoint, every row of the
  table and, for ``qat``, the fine-tuning's history.

It is written under a temporary name and renamed when complete; an existing folder is refused.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ember import checks, optimizers, quantization
from ember.deploy.comparison import (
    Measurement,
    advice,
    format_table,
    measure,
    onnx_runner,
    torch_runner,
)
from ember.deploy.exporters import export_onnx
from ember.deploy.onnx_int8 import quantize_onnx_dynamic, quantize_onnx_static
from ember.deploy.run_export import (
    Classifier,
    calibration_inputs,
    load_classifier,
    run_metadata,
    save_tokenizer,
)
from ember.errors import ConfigError
from ember.nlp.text_inputs import TOKENIZER_FILE
from ember.tasks import QuantizationAware
from ember.train import Trainer


@dataclass
class Quantized:
    """What :func:`quantize_run` wrote and measured."""

    folder: Path
    method: str
    path: Path  # model.int8.pt2 (text runs: model.int8.onnx)
    comparison: list[Measurement]
    table: str
    advice: str
    history: dict[str, list[float]] | None = None  # qat: the fine-tuning's per-epoch logs
    measured_on: str = "test"  # the split of the table's accuracy and loss (text: "validation")


def quantize_run(
    run_dir: str | Path,
    method: str = "static",
    *,
    out: str | Path | None = None,
    which: str = "last",
    calibration_samples: int = 300,
    epochs: int = 1,
    learning_rate: float = 1e-4,
    onnx: bool = True,
    batch_sizes: tuple[int, ...] = (1, 64),
    verbose: int = 0,
) -> Quantized:
    """Quantize ``run_dir``'s ``which`` checkpoint with ``method`` and measure it (see the module).

    ``qat`` fine-tunes for ``epochs`` at ``learning_rate`` (Adam) on the run's training data.
    Latency is measured at ``batch_sizes``.

    Example (a finished ``fashion-cnn`` run):
        >>> result = quantize_run("runs/fashion-cnn-run", "static")  # doctest: +SKIP
        >>> print(result.table)  # doctest: +SKIP
    """
    checks.one_of("method", method, quantization.METHODS, fix="--method static (or dynamic, qat)")
    checks.positive_int("calibration_samples", calibration_samples)
    checks.positive_int("epochs", epochs)
    checks.positive_number("learning_rate", learning_rate)
    run_dir = Path(run_dir)
    folder = Path(out) if out is not None else run_dir / f"quantized-{method}"
    if folder.exists():
        raise ConfigError(
            f"{folder} already exists; ember quantize does not overwrite it. Fix: pass --out "
            f"with a new folder, or remove {folder}."
        )
    classifier = load_classifier(run_dir, which, int8=method != "dynamic")
    text = classifier.takes_token_ids
    example = classifier.inputs[:2].cpu().clone()
    history = calibration = converted = None
    if text:
        pass  # int8 through ONNX Runtime, below
    elif method == "qat":
        converted, history = _fine_tune(classifier, example, epochs, learning_rate, verbose)
    else:
        calibration = calibration_inputs(classifier, calibration_samples)
        converted = quantization.quantize(classifier.module, example, method, calibration)
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        metadata = run_metadata(run_dir, classifier, which)
        inputs, labels = classifier.inputs, classifier.labels
        if text:
            runners = _text_runners(classifier, example, staging, metadata)
            path = staging / "model.int8.onnx"
            inputs, labels = classifier.experiment.data.val  # the loss the target names
        else:
            metadata["quantization"] = f"int8 {method} (PyTorch, torchao PT2E, x86 quantizer)"
            path = quantization.save(converted, example, staging / "model.int8.pt2", metadata)
            runners = {
                "torch fp32": (torch_runner(classifier.module), None),
                "inductor fp32": (_compiled_runner(classifier.module), None),
                "inductor int8": (_compiled_runner(converted), path.stat().st_size),
            }
            if onnx:
                runners.update(_onnx_runners(classifier, example, calibration, staging, metadata))
        rows = measure(runners, inputs.cpu().numpy(), labels.cpu().numpy(), batch_sizes=batch_sizes)
        table, use = format_table(rows), advice(rows)
        (staging / "comparison.txt").write_text(f"{table}\n\nuse: {use}\n")
        record = {
            "method": method,
            "run": str(run_dir),
            "checkpoint": metadata["checkpoint"],
            "runtime": "onnxruntime" if text else "torch",
            "measured_on": "validation" if text else "test",
            "calibration_samples": calibration_samples if method == "static" else None,
            "epochs": epochs if method == "qat" else None,
            "learning_rate": learning_rate if method == "qat" else None,
            "threads": torch.get_num_threads(),
            "rows": [dataclasses.asdict(row) for row in rows],
            "advice": use,
            "history": history,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        (staging / "quantization.json").write_text(json.dumps(record, indent=2) + "\n")
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    split = record["measured_on"]
    return Quantized(folder, method, folder / path.name, rows, table, use, history, split)


def _fine_tune(
    classifier: Classifier, example: torch.Tensor, epochs: int, learning_rate: float, verbose: int
) -> tuple[torch.fx.GraphModule, dict[str, list[float]]]:
    """Quantization-aware fine-tuning on the run's training data, validated on its validation."""
    data = classifier.experiment.data
    task = QuantizationAware(classifier.module, example, "sparse_categorical_crossentropy")
    trainer = Trainer(task, optimizers.Adam(learning_rate), device="cpu")
    with torch.random.fork_rng():  # the shuffling is seeded; the caller's generator is kept
        torch.manual_seed(classifier.experiment.seed)
        history = trainer.fit(
            data.train,
            data.val,
            epochs=epochs,
            batch_size=classifier.experiment.batch_size,
            verbose=verbose,
        )
    return task.convert(), {k: [float(v) for v in vs] for k, vs in history.history.items()}


def _compiled_runner(module: torch.nn.Module) -> Any:
    program = quantization.Compiled(module)
    return lambda batch: program(torch.from_numpy(batch)).numpy()


def _text_runners(
    classifier: Classifier, example: torch.Tensor, folder: Path, metadata: dict[str, str]
) -> dict[str, Any]:
    """A text run in ONNX, float32 and dynamic int8, beside its eager network (and tokenizer)."""
    fp32 = export_onnx(
        classifier.module,
        example,
        folder / "model.onnx",
        metadata=metadata,
        dynamic_axes=("batch", "steps"),
    )
    int8 = quantize_onnx_dynamic(fp32, folder / "model.int8.onnx")
    save_tokenizer(classifier, folder / TOKENIZER_FILE)
    return {
        "torch fp32": (torch_runner(classifier.module), None),
        "onnx fp32": (onnx_runner(fp32), fp32.stat().st_size),
        "onnx int8": (onnx_runner(int8), int8.stat().st_size),
    }


def _onnx_runners(
    classifier: Classifier,
    example: torch.Tensor,
    calibration: torch.Tensor,
    folder: Path,
    metadata: dict[str, str],
) -> dict[str, Any]:
    fp32 = export_onnx(classifier.module, example, folder / "model.onnx", metadata=metadata)
    int8 = quantize_onnx_static(fp32, folder / "model.int8.onnx", calibration.numpy())
    return {
        "onnx fp32": (onnx_runner(fp32), fp32.stat().st_size),
        "onnx int8": (onnx_runner(int8), int8.stat().st_size),
    }
