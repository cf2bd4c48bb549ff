"""POST a job's result to its ``callback_url`` once the job ends.

The JSON body is, for a COMPLETED job::

    {"job_id": "<uuid>", "status": "COMPLETED", "predictions": [<UnionPredictResult>, ...]}

and for a FAILED one::

    {"job_id": "<uuid>", "status": "FAILED", "message": "<why it failed>"}

``predictions`` is the same list ``GET /v0/batch/jobs/{id}/predictions`` returns. Delivery is
best effort: connection errors, timeouts, 5xx and 429 are retried with exponential backoff, any
other status (redirects included: they are not followed) is final, and nothing is raised to the
caller.

Like URL inputs, a callback whose host resolves to a loopback, private or otherwise non-public
address is refused unless ``Settings.allow_private_urls``; the check runs before each attempt, but
httpx resolves the name again when it connects, so DNS rebinding is a residual risk.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Any

import httpx

from mien.errors import BlockedAddressError
from mien.media.fetch import is_blocked_address

__all__ = ["CALLBACK_TIMEOUT_S", "completed_body", "failed_body", "post_callback"]

logger = logging.getLogger(__name__)

CALLBACK_TIMEOUT_S = 10.0
"""Limit on connecting, sending and reading for one callback request."""


def completed_body(job_id: str, predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """The callback body for a COMPLETED job."""
    return {"job_id": job_id, "status": "COMPLETED", "predictions": predictions}


def failed_body(job_id: str, message: str) -> dict[str, Any]:
    """The callback body for a FAILED job."""
    return {"job_id": job_id, "status": "FAILED", "message": message}


def _retryable(status_code: int) -> bool:
    return status_code == 429 or status_code >= 500


def _transient(exc: Exception) -> bool:
    """Network trouble, DNS included, is worth retrying; a URL httpx cannot use is not."""
    if isinstance(exc, httpx.UnsupportedProtocol):
        return False
    return isinstance(exc, httpx.TransportError | OSError)


def _check_public(url: str) -> None:
    """Raise BlockedAddressError if the URL's host resolves to a non-public address."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{url!r} is not an http or https URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    for info in socket.getaddrinfo(parsed.host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(info[4][0])
        if is_blocked_address(address):
            raise BlockedAddressError(f"the callback host {parsed.host} resolves to {address}")


def post_callback(
    url: str,
    body: dict[str, Any],
    *,
    attempts: int,
    backoff_s: float,
    timeout_s: float = CALLBACK_TIMEOUT_S,
    allow_private: bool = False,
    stop: threading.Event | None = None,
) -> bool:
    """POST ``body`` as JSON to ``url``, retrying transient failures; never raises.

    Args:
        url: The job's ``callback_url``.
        body: From :func:`completed_body` or :func:`failed_body`.
        attempts: Requests to make at most.
        backoff_s: Wait before the second request; it doubles before each later one.
        timeout_s: Limit for each request.
        allow_private: Allow hosts that resolve to loopback, private or link-local addresses.
        stop: When set, the remaining retries are dropped (the server is shutting down).

    Returns:
        True once the receiver answered with a 2xx status.
    """
    job_id = body.get("job_id")
    stop = stop or threading.Event()
    problem = "not attempted"
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for attempt in range(attempts):
            if attempt and stop.wait(backoff_s * 2 ** (attempt - 1)):
                break
            try:
                if not allow_private:
                    _check_public(url)
                response = client.post(url, json=body)
            except Exception as exc:  # a bad URL or body must not reach the executor either
                problem = f"{type(exc).__name__}: {exc}"
                if _transient(exc):
                    continue
                break
            if response.is_success:
                logger.info("callback for job %s delivered to %s", job_id, url)
                return True
            problem = f"HTTP {response.status_code}"
            if not _retryable(response.status_code):
                break
    logger.warning("callback for job %s to %s failed: %s", job_id, url, problem)
    return False
