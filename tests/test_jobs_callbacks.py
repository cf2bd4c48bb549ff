"""Callback delivery against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import pytest

from mien.jobs.callbacks import completed_body, failed_body, post_callback


class CallbackServer:
    """Records the JSON bodies POSTed to it and answers each path with a scripted status list."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self._plans: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner._lock:
                    owner.received.setdefault(self.path, []).append(body)
                    plan = owner._plans.get(self.path, [])
                    status = plan.pop(0) if plan else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def url(self, statuses: Sequence[int] = ()) -> str:
        """A fresh endpoint that answers with ``statuses`` in turn, then 200."""
        path = f"/hook/{uuid.uuid4().hex}"
        self._plans[path] = list(statuses)
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def bodies(self, url: str) -> list[dict[str, Any]]:
        """The bodies received so far at ``url``."""
        with self._lock:
            return list(self.received.get(urlsplit(url).path, []))


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_completed_body_is_delivered(receiver: CallbackServer) -> None:
    url = receiver.url()
    predictions = [{"source": {"type": "text"}, "results": {"predictions": [], "errors": []}}]

    delivered = post_callback(
        url, completed_body("job-1", predictions), attempts=3, backoff_s=0.01, allow_private=True
    )

    assert delivered
    assert receiver.bodies(url) == [
        {"job_id": "job-1", "status": "COMPLETED", "predictions": predictions}
    ]


@pytest.mark.parametrize("statuses", [[500], [503, 429]])
def test_server_errors_and_429_are_retried(receiver: CallbackServer, statuses: list[int]) -> None:
    url = receiver.url(statuses)
    body = failed_body("job-2", "no usable input")

    delivered = post_callback(url, body, attempts=3, backoff_s=0.01, allow_private=True)

    assert delivered
    assert receiver.bodies(url) == [body] * (len(statuses) + 1)
    assert body == {"job_id": "job-2", "status": "FAILED", "message": "no usable input"}


def test_client_errors_are_final(receiver: CallbackServer) -> None:
    url = receiver.url([404])

    assert not post_callback(
        url, failed_body("job-3", "x"), attempts=3, backoff_s=0.01, allow_private=True
    )
    assert len(receiver.bodies(url)) == 1


def test_gives_up_after_the_last_attempt(receiver: CallbackServer) -> None:
    url = receiver.url([500, 500, 500, 500])

    assert not post_callback(
        url, failed_body("job-4", "x"), attempts=3, backoff_s=0.01, allow_private=True
    )
    assert len(receiver.bodies(url)) == 3


def test_backoff_doubles_between_attempts() -> None:
    started = time.monotonic()

    assert not post_callback(
        _closed_port_url(), {"job_id": "j"}, attempts=3, backoff_s=0.2, allow_private=True
    )

    assert 0.6 <= time.monotonic() - started < 5  # waits 0.2 s, then 0.4 s


def test_stop_drops_remaining_retries(receiver: CallbackServer) -> None:
    url = receiver.url([500, 500])
    stop = threading.Event()
    stop.set()
    started = time.monotonic()

    assert not post_callback(
        url, {"job_id": "j"}, attempts=5, backoff_s=30, allow_private=True, stop=stop
    )
    assert time.monotonic() - started < 5
    assert len(receiver.bodies(url)) == 1


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/hook", "http://[::1/"])
@pytest.mark.parametrize("allow_private", [False, True])
def test_unusable_urls_fail_without_raising(url: str, allow_private: bool) -> None:
    started = time.monotonic()

    assert not post_callback(
        url, {"job_id": "j"}, attempts=3, backoff_s=10, allow_private=allow_private
    )
    assert time.monotonic() - started < 5  # final at once, not retried


def test_private_addresses_are_refused_by_default(receiver: CallbackServer) -> None:
    url = receiver.url()
    started = time.monotonic()

    assert not post_callback(url, {"job_id": "j"}, attempts=3, backoff_s=10)
    assert time.monotonic() - started < 5
    assert receiver.bodies(url) == []
