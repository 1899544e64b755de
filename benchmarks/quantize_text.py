"""Dynamic int8 for a recurrent text classifier (``sentiment-lstm``): every candidate side by side.

Rows, all on the run's validation snippets (token ids padded to the run's length), latency at
batch 1 and 64 (the median, or with ``--statistic min`` the fastest, of 50 calls after a 0.5 s
warm-up, one runtime at a time, threads pinned to ``--threads`` in torch and ONNX Runtime
alike), file size, validation accuracy and loss, and the load average around each repeat:

- ``torch fp32``: the run's network in eager PyTorch (packed sequences: real steps only);
- ``pt2 fp32``: its ``torch.export`` program (``ember export --format pt2``: every step run,
  padding masked, one ``aten.lstm``);
- ``torchao int8``: torchao's ``quantize_(model, Int8DynamicActivationInt8WeightConfig())`` on
  the parts it can reach (the Dense layer: torchao has no int8 LSTM), run eagerly;
- ``onnx fp32``: the ONNX export in ONNX Runtime (its ``LSTM`` operator);
- ``onnx int8``: ONNX Runtime's ``quantize_dynamic`` of that file (``DynamicQuantizeLSTM``,
  integer matrix multiplies, an int8 embedding table): what ``ember quantize --method dynamic``
  does for text runs;
- ``onnx int8-emb``: the same with the embedding table left in float32.

Then issue #19's target: int8 >= 1.5x faster with validation loss within 1%.

    python benchmarks/quantize_text.py runs/sentiment-lstm-...
    python benchmarks/quantize_text.py RUN --repeats 3 --threads 2 --statistic min
    python benchmarks/quantize_text.py RUN --alternate   # also alternated blocks, fastest call
    python benchmarks/quantize_text.py RUN --masked-paths   # eager: cut to longest vs packing
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ember import recipes
from ember.deploy.comparison import Measurement, format_table, measure, onnx_runner, torch_runner
from ember.deploy.exporters import export_onnx, export_pt2
from ember.deploy.onnx_int8 import DYNAMIC_QUANTIZABLE, quantize_onnx_dynamic
from ember.deploy.run_export import load_classifier
from ember.layers import Dense
from ember.layers.recurrent_masks import packing
from ember.quantization import torchao
from ember.runs import training


def torchao_int8(module: torch.nn.Module) -> torch.nn.Module:
    """A copy with torchao's dynamic int8 on every Dense (the only layers it can quantize)."""
    torchao()  # quiets torchao's import: its CUDA extensions cannot load beside a CPU torch
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    copied = copy.deepcopy(module)
    quantize_(
        copied,
        Int8DynamicActivationInt8WeightConfig(),
        filter_fn=lambda layer, _: isinstance(layer, Dense),  # ember's Dense: F.linear on .weight
    )
    return copied


def runners(run: Path, folder: Path) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Every candidate as ``name -> (runner, size)``, and the validation ids and labels."""
    classifier = load_classifier(run)
    module, data = classifier.module, classifier.experiment.data
    inputs, labels = data.val
    example = inputs[:2].clone()
    axes = ("batch", "steps")
    onnx_fp32 = export_onnx(module, example, folder / "model.onnx", dynamic_axes=axes)
    onnx_int8 = quantize_onnx_dynamic(onnx_fp32, folder / "model.int8.onnx")
    onnx_no_embedding = quantize_onnx_dynamic(
        onnx_fp32, folder / "lstm.int8.onnx", operators=DYNAMIC_QUANTIZABLE
    )
    pt2 = export_pt2(module, example, folder / "model.pt2", dynamic_axes=axes)
    program = torch.export.load(pt2).module()

    def run_program(batch):
        with torch.no_grad():
            return program(torch.from_numpy(batch)).numpy()

    weights = sum(p.numel() * p.element_size() for p in module.parameters())
    candidates = {
        "torch fp32": (torch_runner(module), weights),
        "pt2 fp32": (run_program, pt2.stat().st_size),
        "torchao int8": (torch_runner(torchao_int8(module)), None),
        "onnx fp32": (onnx_runner(onnx_fp32), onnx_fp32.stat().st_size),
        "onnx int8": (onnx_runner(onnx_int8), onnx_int8.stat().st_size),
        "onnx int8-emb": (onnx_runner(onnx_no_embedding), onnx_no_embedding.stat().st_size),
    }
    return candidates, inputs, labels


def alternated(candidates: dict, inputs: torch.Tensor, blocks: int = 6, calls: int = 40) -> None:
    """Each runtime timed in blocks of ``calls`` calls (after 10 warm-up calls), the blocks of
    all runtimes alternated ``blocks`` times; the fastest call of all blocks is printed. A
    burst of other work on the machine then spoils a block, not a row."""
    for batch_size in (1, 64):
        batch = inputs[:batch_size].numpy()
        best = {name: float("inf") for name in candidates}
        for _ in range(blocks):
            for name, (run, _) in candidates.items():
                for _ in range(10):
                    run(batch)
                for _ in range(calls):
                    start = time.perf_counter()
                    run(batch)
                    best[name] = min(best[name], time.perf_counter() - start)
        eager, own = best["torch fp32"], best["onnx fp32"]
        for name, seconds in best.items():
            print(
                f"  batch {batch_size:>2}  {name:14} {seconds * 1e3:8.3f} ms  "
                f"{eager / seconds:5.2f}x eager  {own / seconds:5.2f}x onnx fp32"
            )


def masked_paths(run: Path) -> None:
    """Eager PyTorch, the layers' default masked path (cut to the longest row, what exports
    trace) against packing: single calls alternated, then one training epoch each, twice."""
    experiment, _ = training.load_experiment(run)
    network, (ids, labels) = experiment.network.cpu(), experiment.data.train
    generator = torch.Generator().manual_seed(0)

    def call(packed: bool, rows: torch.Tensor, train: bool) -> float:
        with packing() if packed else contextlib.nullcontext():
            start = time.perf_counter()
            if train:
                network.train().zero_grad()
                F.cross_entropy(network(ids[rows]), labels[rows]).backward()
            else:
                with torch.inference_mode():
                    network.eval()(ids[rows])
            return time.perf_counter() - start

    for batch_size, train, rounds in ((1, False, 200), (64, False, 60), (32, True, 60)):
        times: dict[bool, list[float]] = {False: [], True: []}
        for round_ in range(rounds):  # random rows, as training draws them; order alternated
            rows = torch.randint(0, len(ids), (batch_size,), generator=generator)
            for packed in (round_ % 2 == 0, round_ % 2 == 1):
                times[packed].append(call(packed, rows, train))
        print(
            f"  {'training step' if train else 'inference'} at batch {batch_size}: fastest "
            f"{min(times[False]) * 1e3:.2f} ms cut vs {min(times[True]) * 1e3:.2f} ms packed, "
            f"median {statistics.median(times[False]) * 1e3:.2f} vs "
            f"{statistics.median(times[True]) * 1e3:.2f} ms"
        )
    recipe = recipes.get("sentiment-lstm")
    with tempfile.TemporaryDirectory() as scratch:
        for trial, packed in enumerate((False, True, False, True)):
            config = recipe.config(epochs=1, device="cpu")
            with packing() if packed else contextlib.nullcontext():
                training.train(recipe, config, out=Path(scratch) / str(trial), verbose=0)
            lines = (Path(scratch) / str(trial) / "metrics.jsonl").read_text().splitlines()
            epoch = next(r for r in map(json.loads, lines) if r.get("kind") == "epoch")
            print(
                f"  one sentiment-lstm epoch, {'packed' if packed else 'cut'}: "
                f"{epoch['time']:.1f} s, val_loss {epoch['val_loss']:.4f}"
            )


def check(rows: list[Measurement]) -> None:
    """Issue #19's LSTM target for this table."""
    by_name = {row.name: row for row in rows}
    eager, own = by_name["torch fp32"], by_name["onnx fp32"]
    for name in ("onnx int8", "onnx int8-emb", "torchao int8"):
        row = by_name[name]
        reference = own if name.startswith("onnx") else eager
        for batch in row.latency_ms:
            print(
                f"  {name} batch {batch}: {eager.latency_ms[batch] / row.latency_ms[batch]:.2f}x "
                f"eager, {reference.latency_ms[batch] / row.latency_ms[batch]:.2f}x its fp32 "
                f"(target >= 1.5x)"
            )
        change = (row.loss - eager.loss) / eager.loss
        print(f"  {name} validation loss {row.loss:.4f} vs {eager.loss:.4f}: {100 * change:+.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--repeats", type=int, default=1, help="measure everything this often")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--statistic", choices=["median", "min"], default="median")
    parser.add_argument(
        "--alternate", action="store_true", help="also time the runtimes in alternated blocks"
    )
    parser.add_argument(
        "--masked-paths", action="store_true", help="only eager: cut to the longest vs packing"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"run {args.run}, {args.threads} threads, torch {torch.__version__}")
    if args.masked_paths:
        before = os.getloadavg()[0]
        masked_paths(args.run)
        print(f"  load average {before:.2f} -> {os.getloadavg()[0]:.2f}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            before = os.getloadavg()[0]
            candidates, inputs, labels = runners(args.run, Path(scratch) / str(repeat))
            rows = measure(candidates, inputs.numpy(), labels.numpy(), statistic=args.statistic)
            print(
                f"\n== repeat {repeat + 1}: {args.statistic} of 50 calls, validation snippets, "
                f"load average {before:.2f} -> {os.getloadavg()[0]:.2f} (torch fp32 size: weights)"
            )
            print(format_table(rows))
            check(rows)
            if args.alternate:
                before = os.getloadavg()[0]
                print("alternated blocks (fastest call):")
                alternated(candidates, inputs)
                print(f"  load average {before:.2f} -> {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
