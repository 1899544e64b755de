"""The ``ember`` sub-commands that take a trained run elsewhere: ``export``, ``serve``, ``play``."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import numpy as np
from rich.console import Console

from ember import checks
from ember.deploy import Predictor, export_run
from ember.deploy.comparison import format_table
from ember.deploy.run_quantize import quantize_run
from ember.deploy.server import create_app
from ember.deploy.triton import write_triton_repository
from ember.errors import ConfigError
from ember.runs import agent_training, rundir

PLAY_SEED = 30_000  # ember play's starting states: neither training's nor the test's


def export(args: argparse.Namespace, console: Console) -> int:
    """``ember export RUN --format onnx|pt2``: the file, its size, and its check against PyTorch."""
    if args.triton is not None and args.format != "onnx":
        raise ConfigError("--triton serves ONNX files. Fix: --format onnx --triton DIR.")
    result = export_run(args.run, args.format, out=args.out, which=args.checkpoint, int8=args.int8)
    size = result.path.stat().st_size / 1e6
    shape = result.metadata["input_shape"].replace("null", "N")
    console.print(
        f"wrote {result.path} ({size:.1f} MB, {result.format}): class probabilities for inputs "
        f"{shape} {result.metadata['input_dtype']}"
    )
    console.print(
        f"checked against PyTorch on {result.samples} test inputs: max abs difference "
        f"{result.max_difference:.1e}"
    )
    loader = (
        f'onnxruntime.InferenceSession("{result.path}")'
        if result.format == "onnx"
        else f'torch.export.load("{result.path}").module()'
    )
    console.print(f"load it with {loader}")
    if args.triton is not None:
        model = write_triton_repository(
            result.path,
            args.triton,
            name=rundir.read_config(args.run)[0].name,
            input_shape=json.loads(result.metadata["input_shape"])[1:],
            class_names=json.loads(result.metadata["class_names"]),
            input_dtype=result.metadata.get("input_dtype", "float32"),
        )
        console.print(f"wrote the Triton model {model} (config.pbtxt, 1/model.onnx, labels.txt)")
    if result.comparison is not None:
        console.print(f"wrote {result.int8_path} (int8); on the test inputs, side by side:")
        console.print(format_table(result.comparison), markup=False, highlight=False)
    return 0


def quantize(args: argparse.Namespace, console: Console) -> int:
    """``ember quantize RUN --method static|dynamic|qat``: the int8 folder and its table."""
    result = quantize_run(
        args.run,
        args.method,
        out=args.out,
        which=args.checkpoint,
        calibration_samples=args.calibration,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        onnx=not args.no_onnx,
        verbose=0 if args.quiet else 1,
    )
    console.print(
        f"wrote {result.folder} ({args.method} int8): on the {result.measured_on} inputs, "
        f"side by side:"
    )
    console.print(result.table, markup=False, highlight=False)
    console.print(f"use: {result.advice}", markup=False, highlight=False)
    console.print(f'run the int8 program with ember.Predictor("{result.path}")')
    return 0


def serve(args: argparse.Namespace, console: Console) -> int:
    """``ember serve RUN``: load the model (errors first), check the port, then serve."""
    import uvicorn  # the server's own stack, loaded only to serve

    checks.positive_int("--port", args.port)
    source = Path(args.run)
    if args.format == "onnx":
        exported = source / "export" / "model.onnx"
        if not exported.is_file():
            exported = export_run(source, "onnx", which=args.checkpoint).path
            console.print(f"exported {exported}")
        source = exported
    predictor = Predictor(source, checkpoint=args.checkpoint)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            console.print(
                f"[bold red]error:[/] cannot listen on {args.host}:{args.port} ({error.strerror}):"
                f" the port is in use or not allowed. Fix: --port {args.port + 1}, or stop what "
                f"uses it.",
                highlight=False,
            )
            return 1
    app = create_app(predictor, max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms)
    console.print(
        f"serving {predictor.source} ({predictor.kind}) on http://{args.host}:{args.port}: "
        f"POST /v1/predict, GET /health, /v1/metadata, /metrics, /docs. Ctrl-C stops it."
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=10
    )
    return 0


def play(args: argparse.Namespace, console: Console) -> int:
    """``ember play RUN --episodes N``: each greedy episode's return, then their mean."""
    episodes = checks.positive_int("--episodes", args.episodes)
    seed = PLAY_SEED if args.seed is None else checks.non_negative_int("--seed", args.seed)
    agent, checkpoint = agent_training.load_agent(args.run, args.checkpoint)
    returns = agent.play(episodes, seed=seed)
    for index, value in enumerate(returns):
        console.print(f"episode {index + 1:>{len(str(episodes))}}: return {value:g}")
    mean, std = float(np.mean(returns)), float(np.std(returns))
    console.print(
        f"mean return {mean:.2f} ± {std:.2f} over {episodes} episode(s) "
        f"({args.checkpoint} checkpoint, epoch {checkpoint.epoch})"
    )
    if args.gif is not None:
        path = agent.record(args.gif, seed=seed)
        console.print(f"filmed episode 1: {path}")
    return 0
