"""Load on ``ember serve``: N concurrent clients for S seconds, micro-batching against batch-size-1.

Starts ``ember serve RUN`` twice on a free loopback port (``--max-batch-size 32`` and
``--max-batch-size 1``, the same ``--max-wait-ms``), and for each runs ``--clients`` asyncio
clients, each posting one test image as JSON and waiting for its answer, again and again, for
``--seconds``. It stops by itself and prints per server: requests, throughput, p50/p99 latency,
status counts (any 5xx or dropped connection is counted), and the throughput ratio.

    python benchmarks/serve_load.py runs/fashion-cnn-...            # 64 clients, 60 s each
    python benchmarks/serve_load.py RUN --clients 8 --seconds 5      # a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ember.runs import training


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(run: Path, port: int, max_batch_size: int, max_wait_ms: float, fmt: str):
    command = [
        sys.executable,
        "-m",
        "ember",
        "serve",
        str(run),
        "--port",
        str(port),
        "--max-batch-size",
        str(max_batch_size),
        "--max-wait-ms",
        str(max_wait_ms),
        "--format",
        fmt,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not start: {process.stderr.read().decode()[-2000:]}")


async def load(port: int, payload: dict, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: collections.Counter = collections.Counter()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:

        async def one_client() -> None:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    response = await client.post("/v1/predict", json=payload)
                    statuses[response.status_code] += 1
                except httpx.HTTPError as error:
                    statuses[f"dropped ({type(error).__name__})"] += 1
                    continue
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": quantiles[49] * 1e3,
        "p99_ms": quantiles[98] * 1e3,
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--format", default="pytorch", choices=["pytorch", "onnx"])
    args = parser.parse_args()
    experiment, _ = training.load_experiment(args.run)
    payload = {"inputs": experiment.data.test[0][0].tolist()}
    results = {}
    for max_batch_size in (32, 1):
        port = free_port()
        server = start_server(args.run, port, max_batch_size, args.max_wait_ms, args.format)
        try:
            results[max_batch_size] = asyncio.run(load(port, payload, args.clients, args.seconds))
        finally:
            server.terminate()  # SIGTERM: uvicorn finishes in-flight requests, then exits
            server.wait(timeout=30)
        row = results[max_batch_size]
        print(
            f"max batch {max_batch_size:>2}: {row['requests']} requests, "
            f"{row['per_second']:.0f}/s, p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
            f"statuses {row['statuses']}",
            flush=True,
        )
    ratio = results[32]["per_second"] / results[1]["per_second"]
    print(f"micro-batching gives {ratio:.2f}x the throughput of batch-size-1 serving")


if __name__ == "__main__":
    main()
