"""The Keras examples (examples/keras/) under ember and under Keras 3 (torch backend), side by side.

    python benchmarks/keras_examples.py                          # every example, full original runs
    python benchmarks/keras_examples.py mnist_convnet toy_resnet # some of them
    python benchmarks/keras_examples.py --fraction 0.05 --max-epochs 1   # a quick run
    python benchmarks/keras_examples.py --frameworks ember      # ember alone
    python benchmarks/keras_examples.py --threads 1             # steadier on a shared machine

Each run is its own subprocess (examples/keras/run_with_keras.py) in a fresh working directory:
the same file, with only its import block swapped for Keras, on the same data (Keras' dataset
loaders read ember's local files) with the same limits (``--fraction`` of every array given to
fit/evaluate/predict, at most ``--max-epochs`` epochs per fit). The time is the wall time of the
whole subprocess (interpreter, imports, data, training); the metric is the example's final number
(run_with_keras.final_metric). The two frameworks take turns going first. toy_resnet needs
CIFAR-10 in $EMBER_DATA/cifar-10/ (see the example's docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "keras"
RUNNER = EXAMPLES / "run_with_keras.py"
NOT_EXAMPLES = {"run_with_keras", "_data"}
FRAMEWORKS = ("ember", "keras")


def example_names() -> list[str]:
    """Every example in examples/keras/, by file name without ``.py``."""
    return sorted(path.stem for path in EXAMPLES.glob("*.py") if path.stem not in NOT_EXAMPLES)


def run_once(
    name: str,
    framework: str,
    fraction: float,
    max_epochs: int | None,
    logs: Path,
    timeout: float,
    threads: int | None = None,
) -> dict:
    """Run one example under one framework in a subprocess; return its result with ``wall``
    (seconds) and ``error`` (the last line of its output when it failed)."""
    result_file = logs / f"{name}.{framework}.json"
    log_file = logs / f"{name}.{framework}.log"
    command = [sys.executable, str(RUNNER), str(EXAMPLES / f"{name}.py")]
    command += ["--framework", framework, "--fraction", str(fraction), "--result", str(result_file)]
    if max_epochs is not None:
        command += ["--max-epochs", str(max_epochs)]
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    if threads is not None:  # torch reads these at start-up (both frameworks run on torch)
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as workdir, log_file.open("w") as log:
        started = time.perf_counter()
        try:
            process = subprocess.run(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
            )
            returncode = process.returncode
        except subprocess.TimeoutExpired:
            returncode = "timeout"
        wall = time.perf_counter() - started
    if returncode == 0 and result_file.exists():
        return {**json.loads(result_file.read_text()), "wall": wall, "error": None}
    lines = log_file.read_text(errors="replace").strip().splitlines() or ["(no output)"]
    error = f"timed out after {timeout:.0f} s" if returncode == "timeout" else lines[-1]
    return {"example": name, "framework": framework, "wall": wall, "error": error[:160]}


def markdown_table(rows: list[dict[str, dict]], frameworks: list[str]) -> str:
    """One line per example: each framework's wall time, ember/keras, the metric and values."""
    header = ["example"] + [f"{f} s" for f in frameworks]
    both = frameworks == ["ember", "keras"]
    header += ["ember/keras"] if both else []
    header += ["metric"] + frameworks
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        name = next(iter(row.values()))["example"]
        cells = [name] + [_seconds(row[f]) for f in frameworks]
        if both:
            ok = all(row[f]["error"] is None for f in frameworks)
            cells.append(f"{row['ember']['wall'] / row['keras']['wall']:.2f}" if ok else "-")
        metric = next((row[f].get("metric") for f in frameworks if row[f].get("metric")), None)
        cells.append(metric or "-")
        cells += [_value(row[f]) for f in frameworks]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _seconds(result: dict) -> str:
    return f"{result['wall']:.1f}" if result["error"] is None else "failed"


def _value(result: dict) -> str:
    if result["error"] is not None:
        return f"failed: {result['error']}"
    return "-" if result.get("value") is None else f"{result['value']:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="*", help=f"names (default all: {example_names()})")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the data (0, 1]")
    parser.add_argument("--max-epochs", type=int, default=None, help="cap on every fit's epochs")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per run")
    parser.add_argument("--logs", type=Path, default=None, help="folder for logs and results")
    parser.add_argument("--json", type=Path, default=None, help="write every result here")
    args = parser.parse_args()
    frameworks = [name for name in FRAMEWORKS if name in args.frameworks]  # ember first
    names = args.examples or example_names()
    unknown = sorted(set(names) - set(example_names()))
    if unknown:
        parser.error(f"unknown examples {unknown}; known: {example_names()}")
    if not 0.0 < args.fraction <= 1.0:
        parser.error(f"--fraction must be in (0, 1], received {args.fraction}")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="keras_examples_"))
    logs.mkdir(parents=True, exist_ok=True)
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}, {os.cpu_count()} CPUs")
    print(
        f"fraction {args.fraction}, max epochs {args.max_epochs}, threads {args.threads}; "
        f"logs in {logs}",
        flush=True,
    )
    rows = []
    for index, name in enumerate(names):
        # Take turns going first, so that neither framework always meets a warmer machine.
        order = frameworks if index % 2 == 0 else frameworks[::-1]
        row = {}
        for framework in order:
            row[framework] = run_once(
                name, framework, args.fraction, args.max_epochs, logs, args.timeout, args.threads
            )
            print(json.dumps(row[framework]), flush=True)
        rows.append(row)
    print(f"load average at end (1, 5, 15 min): {os.getloadavg()}")
    print(markdown_table(rows, frameworks))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
