"""Download a URL input without letting it reach the server's own network (an SSRF guard).

Each hop (the first request and every redirect, at most five) resolves the host and refuses
loopback, private, link-local, multicast, reserved and unspecified addresses, IPv4 and IPv6, also
when embedded in IPv4-mapped, 6to4 or NAT64 IPv6 forms, unless ``Settings.allow_private_urls``.
The request then goes to the checked address itself, with the original ``Host`` header and TLS
server name (httpcore's ``sni_hostname`` extension, so certificates are still verified for the
host name): a second, different DNS answer (DNS rebinding) is never used. Proxies from the
environment are ignored, since a proxy would make the address check meaningless.

Residual risk: host names are resolved by the system resolver, whose own timeouts apply on top
of ``url_timeout_s``.
"""

from __future__ import annotations

import email.message
import ipaddress
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from mien.errors import BlockedAddressError, FetchError, TooLargeError
from mien.settings import Settings

__all__ = ["IPAddress", "download", "is_blocked_address"]

MAX_REDIRECTS = 5
FALLBACK_NAME = "download"
MAX_NAME_BYTES = 200
"""Longest saved file name in UTF-8 bytes, below the usual 255-byte file-system limit."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SEPARATORS = re.compile(r"[/\\]")
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\- ]")


def download(url: str, dest_dir: Path, settings: Settings) -> Path:
    """Download ``url`` into ``dest_dir`` (created if needed) and return the saved file.

    The file is named from ``Content-Disposition`` or the URL path, sanitised, falling back to
    ``download``; an existing file is never overwritten.

    Raises:
        BlockedAddressError: the host, or a redirect's host, resolves to a refused address.
        FetchError: the URL is invalid, the host unresolvable or unreachable, the server answered
            an error status or too many redirects, or the download took over ``url_timeout_s``.
        TooLargeError: the body is larger than ``max_file_bytes``.
    """
    deadline = time.monotonic() + settings.url_timeout_s
    try:
        return _follow(_parse(url), dest_dir, settings, deadline)
    except httpx.TimeoutException as exc:
        raise FetchError(_timed_out(settings)) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"the download failed: {exc}") from exc


def is_blocked_address(address: IPAddress) -> bool:
    """Whether ``address`` is anything but public unicast, looking inside IPv6 forms of IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        if any(v4 is not None and is_blocked_address(v4) for v4 in embedded):
            return True
    return not address.is_global or address.is_multicast


def _follow(url: httpx.URL, dest_dir: Path, settings: Settings, deadline: float) -> Path:
    for _ in range(MAX_REDIRECTS + 1):
        with _get(url, settings, deadline) as response:
            if response.has_redirect_location:
                url = _parse(str(url.join(response.headers["location"])))
                continue
            if not response.is_success:
                raise FetchError(
                    f"the server answered HTTP {response.status_code} {response.reason_phrase}"
                )
            return _save(response, url, dest_dir, settings, deadline)
    raise FetchError(f"the URL redirects more than {MAX_REDIRECTS} times")


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"'{url}' is not a valid URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(f"only http and https URLs can be fetched, not '{url}'")
    return parsed


def _resolve(url: httpx.URL) -> list[IPAddress]:
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(url.raw_host.decode("ascii"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"could not resolve the host '{url.host}': {exc}") from exc
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def check_url(url: str, settings: Settings) -> None:
    """Refuse ``url`` now if it is not http(s) or resolves to a refused address."""
    _checked_addresses(_parse(url), settings)


def _checked_addresses(url: httpx.URL, settings: Settings) -> list[IPAddress]:
    addresses = _resolve(url)
    if not settings.allow_private_urls:
        for address in addresses:
            if is_blocked_address(address):
                raise BlockedAddressError(
                    f"the host '{url.host}' resolves to {address}, a private, loopback or "
                    "otherwise non-public address; fetching it is not allowed "
                    "(MIEN_ALLOW_PRIVATE_URLS=true allows it)"
                )
    return addresses


@contextmanager
def _get(url: httpx.URL, settings: Settings, deadline: float) -> Iterator[httpx.Response]:
    """GET ``url`` from one of its checked addresses, trying each until one connects."""
    addresses = _checked_addresses(url, settings)
    remaining_s = deadline - time.monotonic()
    if remaining_s <= 0:
        raise FetchError(_timed_out(settings))
    error: httpx.ConnectError | None = None
    with httpx.Client(trust_env=False, timeout=remaining_s) as client:
        for address in addresses:
            request = client.build_request(
                "GET",
                url.copy_with(host=str(address)),
                headers={"Host": url.netloc.decode("ascii")},
                extensions={"sni_hostname": url.raw_host.decode("ascii")},
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                error = exc
                continue
            try:
                yield response
            finally:
                response.close()
            return
    raise FetchError(f"could not connect to '{url.host}': {error}")


def _save(
    response: httpx.Response, url: httpx.URL, dest_dir: Path, settings: Settings, deadline: float
) -> Path:
    limit = settings.max_file_bytes
    too_large = TooLargeError(f"the download is larger than the limit of {limit:,} bytes")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = _unused(dest_dir / _filename(response, url))
    size = 0
    try:
        with target.open("xb") as out:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise too_large
                if time.monotonic() > deadline:
                    raise FetchError(_timed_out(settings))
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _filename(response: httpx.Response, url: httpx.URL) -> str:
    """The name from ``Content-Disposition`` (RFC 6266, incl. ``filename*``) or the URL path."""
    name = None
    if disposition := response.headers.get("content-disposition"):
        header = email.message.Message()
        header["content-disposition"] = disposition
        name = header.get_filename()
    base = _SEPARATORS.split(name or url.path)[-1]
    clean = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    clean = clean.encode()[:MAX_NAME_BYTES].decode(errors="ignore")
    return clean or FALLBACK_NAME


def _unused(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


def _timed_out(settings: Settings) -> str:
    return f"the download took longer than {settings.url_timeout_s:g} s"
