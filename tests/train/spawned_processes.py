"""What the multi-process tests share: a free port, and the environment torchrun would give a
process spawned by ``torch.multiprocessing`` (one torch thread each: two processes share 2 cores)."""

from __future__ import annotations

import os
import socket

import torch


def free_port() -> int:
    """A TCP port nothing listens on now (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def act_as_torchrun_process(rank: int, world_size: int, port: int) -> None:
    """Set the variables torchrun sets for process ``rank`` of ``world_size`` on this machine."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
