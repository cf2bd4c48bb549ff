"""``mien serve``: run the HTTP and WebSocket server."""

from __future__ import annotations

import ipaddress
import logging
import sys
import tempfile
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mien.settings import Settings

__all__ = ["serve"]

logger = logging.getLogger("mien.server")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for batch jobs [default: MIEN_WORKERS or 1].",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    help="Require this API key (repeatable; adds to MIEN_API_KEYS).",
)
def serve(host: str, port: int, workers: int | None, api_keys: tuple[str, ...]) -> None:
    """Serve the v0 batch API, the streaming socket and the web page at /."""
    import uvicorn

    from mien.api import create_app
    from mien.settings import Settings

    settings = Settings()
    updates: dict[str, object] = {}
    if workers is not None:
        updates["workers"] = workers
    if api_keys:
        updates["api_keys"] = [*settings.api_keys, *api_keys]
    settings = settings.model_copy(update=updates)
    if not settings.api_keys and not _is_loopback(host):
        click.secho(
            f"warning: binding {host} with no API keys: anyone who can reach this "
            "address can use the server. Set MIEN_API_KEYS or --api-key.",
            fg="yellow",
            err=True,
        )
    logger.info("mien home: %s", settings.home)
    _pull_weights(settings)
    # Uploads spooled by the multipart parser and stream payloads go to temporary files: keep
    # them under MIEN_HOME with everything else the server writes.
    scratch = settings.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(scratch)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"web page: http://{shown_host}:{port}/  (API docs at /docs)", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _pull_weights(settings: Settings) -> None:
    """Fetch missing weights now, so the first job doesn't wait for them (and offline shows)."""
    from mien.errors import WeightsError
    from mien.weights import pull

    try:
        pull(None, settings, progress=sys.stderr.isatty())
    except WeightsError as exc:
        click.secho(
            f"warning: weights are missing and could not be fetched: {exc}\n"
            "Jobs that need them will fail until `mien models pull` succeeds.",
            fg="yellow",
            err=True,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
