"""API keys: ``X-Hume-Api-Key``, ``Authorization: Bearer``, or ``?apikey=`` on the WebSocket.

With no keys configured the server is open; ``create_app`` logs that at start-up.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

__all__ = ["key_from", "key_is_valid"]

_QUERY_NAMES = ("apikey", "apiKey", "api_key")


def key_from(
    headers: Mapping[str, str], query: Mapping[str, str], *, allow_query: bool
) -> str | None:
    """The key a client presented, if any. Browsers can't set WebSocket headers: query allowed."""
    if key := headers.get("x-hume-api-key"):
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_query:
        for name in _QUERY_NAMES:
            if key := query.get(name):
                return key
    return None


def key_is_valid(presented: str | None, keys: Sequence[str]) -> bool:
    """True when no keys are configured, or ``presented`` matches one (in constant time)."""
    if not keys:
        return True
    if presented is None:
        return False
    return any(hmac.compare_digest(presented.encode(), key.encode()) for key in keys)
