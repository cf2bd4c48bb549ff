"""URL downloads: the SSRF guard, redirects, limits and errors, against a local HTTP server."""

from __future__ import annotations

import functools
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mien.errors import BlockedAddressError, FetchError, TooLargeError
from mien.media import fetch
from mien.media.fetch import download, is_blocked_address
from mien.settings import Settings

PHOTO = b"\xff\xd8\xff\xe0 pretend jpeg " * 10
BIG = b"z" * 10_000
LOCAL = Settings(allow_private_urls=True)


class _Handler(BaseHTTPRequestHandler):
    requests: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get("Host", "")))
        routes = {
            "/photo.jpg": lambda: self._send(200, PHOTO, length=True),
            "/big": lambda: self._send(200, BIG, length=False),
            "/big-declared": lambda: self._send(200, BIG, length=True),
            "/redirect": lambda: self._send(302, b"", location="/photo.jpg"),
            "/redirect-blocked": lambda: self._send(302, b"", location="http://10.0.0.1/x"),
            "/loop": lambda: self._send(302, b"", location="/loop"),
            "/named/": lambda: self._send(
                200, PHOTO, disposition="attachment; filename*=UTF-8''..%2F..%2Fcaf%C3%A9%20a.jpg"
            ),
            "/": lambda: self._send(200, PHOTO),
            "/slow": self._trickle,
        }
        routes.get(self.path, lambda: self._send(404, b"missing"))()

    def _send(
        self,
        status: int,
        body: bytes,
        length: bool = True,
        location: str | None = None,
        disposition: str | None = None,
    ) -> None:
        self.send_response(status)
        if length:
            self.send_header("Content-Length", str(len(body)))
        if location:
            self.send_header("Location", location)
        if disposition:
            self.send_header("Content-Disposition", disposition)
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self) -> None:
        self.send_response(200)
        self.end_headers()
        for _ in range(30):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Keep the test output clean."""


@pytest.fixture
def server() -> Iterator[str]:
    """Base URL of a local HTTP server; ``_Handler.requests`` records what it was asked."""
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dest(tmp_path: Path) -> Iterator[Path]:
    """The download folder; nothing may be written beside it."""
    work = tmp_path / "work"
    work.mkdir()
    yield work / "downloads"
    assert [p.name for p in tmp_path.iterdir()] == ["work"]
    assert [p.name for p in work.iterdir()] in ([], ["downloads"])


@pytest.fixture
def no_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any HTTP request is sent."""

    def refuse(*args: object, **kwargs: object) -> httpx.Response:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(httpx.Client, "send", refuse)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:8080/",
        "http://localhost/",
        "https://192.168.1.1/",
        "http://[fe80::1]/",
    ],
)
def test_private_addresses_are_refused_without_a_request(
    url: str, dest: Path, no_requests: None
) -> None:
    with pytest.raises(BlockedAddressError, match="fetching it is not allowed"):
        download(url, dest, Settings())


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("224.0.0.1", True),
        ("ff02::1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("::", True),
        ("fc00::1", True),
        ("::ffff:8.8.8.8", False),
        ("::ffff:10.0.0.1", True),
        ("2002:a00:1::1", True),  # 6to4 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", True),  # NAT64 around 169.254.169.254
    ],
)
def test_is_blocked_address(address: str, blocked: bool) -> None:
    assert is_blocked_address(ipaddress.ip_address(address)) is blocked


def test_download_when_private_urls_are_allowed(server: str, dest: Path) -> None:
    path = download(f"{server}/photo.jpg", dest, LOCAL)
    assert path == dest / "photo.jpg" and path.read_bytes() == PHOTO
    again = download(f"{server}/photo.jpg", dest, LOCAL)
    assert again == dest / "photo-1.jpg" and path.read_bytes() == PHOTO


def test_redirect_is_followed(server: str, dest: Path) -> None:
    assert download(f"{server}/redirect", dest, LOCAL).read_bytes() == PHOTO
    assert [path for path, _ in _Handler.requests] == ["/redirect", "/photo.jpg"]


def test_redirect_to_a_blocked_address_is_refused(
    server: str, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the test server's own address is let through the guard; the redirect is not."""
    server_ip = ipaddress.ip_address("127.0.0.1")
    guard = fetch.is_blocked_address
    monkeypatch.setattr(fetch, "is_blocked_address", lambda ip: ip != server_ip and guard(ip))
    with pytest.raises(BlockedAddressError, match="resolves to 10.0.0.1"):
        download(f"{server}/redirect-blocked", dest, Settings())
    assert [path for path, _ in _Handler.requests] == ["/redirect-blocked"]


def test_connection_is_pinned_to_the_checked_address(
    server: str, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host name is resolved once; later lookups (DNS rebinding) would give another IP."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def resolver(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "media.example":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "10.255.255.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    port = server.rsplit(":", 1)[1]
    path = download(f"http://media.example:{port}/photo.jpg", dest, LOCAL)
    assert path.read_bytes() == PHOTO
    assert lookups == ["media.example"]
    assert _Handler.requests == [("/photo.jpg", f"media.example:{port}")]


@pytest.mark.parametrize("route", ["/big", "/big-declared"])
def test_size_limit(server: str, dest: Path, route: str) -> None:
    settings = Settings(allow_private_urls=True, max_file_bytes=1000)
    with pytest.raises(TooLargeError, match="larger than the limit of 1,000 bytes"):
        download(f"{server}{route}", dest, settings)
    assert not dest.exists() or not any(dest.iterdir())


def test_total_time_limit(server: str, dest: Path) -> None:
    settings = Settings(allow_private_urls=True, url_timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 0.5 s"):
        download(f"{server}/slow", dest, settings)
    assert time.monotonic() - started < 2
    assert not any(dest.iterdir())


def test_file_name_is_sanitised_or_falls_back(server: str, dest: Path) -> None:
    assert download(f"{server}/named/", dest, LOCAL).name == "café a.jpg"
    assert download(f"{server}/", dest, LOCAL).name == "download"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/missing", "the server answered HTTP 404 Not Found"),
        ("/loop", "redirects more than 5 times"),
    ],
)
def test_http_errors(server: str, dest: Path, url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        download(f"{server}{url}", dest, LOCAL)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/", "could not connect to '127.0.0.1'"),
        ("http://no-such-host.invalid/x.jpg", "could not resolve the host 'no-such-host.invalid'"),
        ("ftp://example.com/x.jpg", "only http and https URLs"),
        ("file:///etc/passwd", "only http and https URLs"),
        ("not a url", "only http and https URLs"),
    ],
)
def test_unreachable_or_invalid_urls(dest: Path, url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        download(url, dest, LOCAL)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_is_pinned_and_still_verified_for_the_host_name(
    tmp_path_factory: pytest.TempPathFactory, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TLS server name and certificate check use the host name, not the pinned IP."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=media.example"]
        + ["-addext", "subjectAltName=DNS:media.example"],
        check=True,
        capture_output=True,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda _socket, name, _context: names.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
    port = httpd.server_address[1]

    real_resolver, real_client = socket.getaddrinfo, httpx.Client
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: real_resolver("127.0.0.1", *a, **k)
    )
    trusting = ssl.create_default_context(cafile=cert)
    monkeypatch.setattr(httpx, "Client", functools.partial(real_client, verify=trusting))
    try:
        path = download(f"https://media.example:{port}/photo.jpg", dest, LOCAL)
        assert path.read_bytes() == PHOTO and names == ["media.example"]
        with pytest.raises(FetchError, match="certificate is not valid for 'other.example'"):
            download(f"https://other.example:{port}/photo.jpg", dest, LOCAL)
    finally:
        httpd.shutdown()
        httpd.server_close()
