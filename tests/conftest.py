"""Shared fixtures: settings in a temporary MIEN_HOME, and a real server on a loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from mien.api import create_app
from mien.settings import Settings

WEIGHTS_CACHE = Path(os.environ.get("MIEN_CACHE_DIR", Path.home() / ".mien" / "models"))
"""Real weights are pulled once into the user's cache and shared by every test's MIEN_HOME."""


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings for a test: its own home, sharing the one weights cache."""
    return Settings(home=home, cache_dir=WEIGHTS_CACHE, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@dataclass
class Server:
    url: str
    settings: Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(settings: Settings) -> Iterator[str]:
    """A real server on a free loopback port, jobs run in-process; yields its base URL."""
    from mien.jobs.executor import InlineExecutor

    app = create_app(settings, executor_factory=lambda store, s: InlineExecutor(store, s))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="websockets-sansio" if _has_sansio() else "auto",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = make_settings(tmp_path / "home")
    with running(settings) as url:
        yield Server(url, settings)


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[Server]:
    settings = make_settings(tmp_path / "home", api_keys=["s3cret"])
    with running(settings) as url:
        yield Server(url, settings)
