"""Shared fixtures for the dataset tests: an isolated search path and a local HTTP mirror."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ember.datasets import cache


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """No EMBER_DATA, a fresh HOME and a fresh system folder: the real data is out of sight."""
    folders = {
        "ember_data": tmp_path / "ember_data",
        "home": tmp_path / "home",
        "system": tmp_path / "system",
    }
    folders["cache"] = folders["home"] / ".cache" / "ember" / "datasets"
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.delenv(cache.MIRROR_ENV, raising=False)
    monkeypatch.setenv("HOME", str(folders["home"]))
    monkeypatch.setattr(cache, "SYSTEM_DIRS", [folders["system"]])
    return folders


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (the base's name)
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """A static HTTP server on 127.0.0.1: (base URL, folder it serves, paths requested)."""
    root = tmp_path / "served"
    root.mkdir()
    requests: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
