"""``ember train RECIPE --devices N`` (and ``ember resume RUN --devices N``): the same command
again in N processes on this machine, started by ``torchrun``.

The command checks what it can first (the devices this machine has, that the global batch size
divides by N, a free ``--master-port``), so a mistake fails before any process starts; then it
runs ``python -m torch.distributed.run --standalone --nproc-per-node N -m ember <its arguments>``
and returns its exit code. In each process ``torchrun`` sets ``RANK``/``WORLD_SIZE``, so the
same command trains there (the recipe's ``Trainer`` joins the processes: ``devices="auto"``)
instead of launching again. Several machines: start ``torchrun --nnodes ...`` on each yourself
(docs/distributed.md).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from ember import checks
from ember.data.sharding import local_batch_size
from ember.errors import ConfigError
from ember.train.distributed import check_devices, torchrun_launch
from ember.train.precision import resolve_device


def needs_launch(devices: int) -> bool:
    """Whether this command must start ``devices`` processes: more than one were asked for and
    this process is not one that ``torchrun`` started.

    Example:
        >>> needs_launch(1)
        False
    """
    checks.positive_int("--devices", devices, fix="pass --devices 2 (say), or leave it out")
    launch = torchrun_launch()
    if launch is not None and devices not in (1, launch.local_world_size):
        raise ConfigError(
            f"--devices {devices} asks for {devices} processes, but torchrun started "
            f"{launch.local_world_size} on this machine. Fix: leave --devices out under torchrun "
            f"(it uses the processes torchrun started)."
        )
    return devices > 1 and launch is None


def check_launch(devices: int, config: Any, master_port: int | None) -> None:
    """Raise before any process starts: more GPUs than this machine has (more CPU processes
    than cores is a warning), a batch size that does not divide by ``devices``, a taken port."""
    check_devices(devices, resolve_device(getattr(config, "device", "auto")).type)
    batch_size = getattr(config, "batch_size", None)
    if isinstance(batch_size, int):
        local_batch_size(batch_size, devices)
    if master_port is not None:
        check_port(master_port)


def check_port(port: int) -> int:
    """``port`` if no process listens on it here, else a ConfigError suggesting a free one.

    Example:
        >>> check_port(free_port()) > 0
        True
    """
    checks.int_at_least("--master-port", port, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
            return port
        except OSError as error:
            reason = error.strerror or str(error)
    raise ConfigError(
        f"--master-port {port} cannot be used ({reason}): another torchrun job or a server "
        f"may be listening on it, and the processes must meet on a port of their own. Fix: "
        f"pass another, e.g. --master-port {free_port()} (free now), or leave --master-port "
        f"out so that torchrun picks a free one."
    )


def free_port() -> int:
    """A TCP port that is free on this machine now (the system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


def torchrun_command(argv: Sequence[str], devices: int, master_port: int | None) -> list[str]:
    """The ``torchrun`` command line that runs ``ember <argv>`` in ``devices`` processes.

    Example:
        >>> torchrun_command(["train", "fashion-mlp", "--devices", "2"], 2, None)[1:6]
        ['-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2']
    """
    if master_port is None:
        meeting = ["--standalone"]  # a rendezvous on a free port of torchrun's choosing
    else:
        meeting = ["--nnodes", "1", "--master-addr", "127.0.0.1", "--master-port", str(master_port)]
    return [
        sys.executable,
        *["-m", "torch.distributed.run", *meeting, "--nproc-per-node", str(devices)],
        *["-m", "ember", *argv],
    ]


def launch(argv: Sequence[str], devices: int, master_port: int | None) -> int:
    """Run ``ember <argv>`` in ``devices`` processes through ``torchrun``; its exit code."""
    environment = dict(os.environ)
    # One share of the cores each (torchrun would set 1 and print a notice saying so).
    threads = max(1, (os.cpu_count() or 1) // devices)
    environment.setdefault("OMP_NUM_THREADS", str(threads))
    with subprocess.Popen(torchrun_command(argv, devices, master_port), env=environment) as run:
        while True:
            try:
                return run.wait()
            except KeyboardInterrupt:
                # torchrun got the Ctrl-C too and passes it to every process, which finish the
                # epoch's checkpoint and stop (it kills them after 30 s): wait for that.
                continue
