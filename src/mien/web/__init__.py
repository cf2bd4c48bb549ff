"""The web page at ``/``: a playground for every model, served by mien itself.

Every asset lives in ``static/`` (no CDN), and the page talks to the server only through the
public API (the batch routes and the streaming socket), so it doubles as a living example of it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "mount_web"]

STATIC_DIR = Path(__file__).parent / "static"

_router = APIRouter(include_in_schema=False)


@_router.get("/")
def index() -> FileResponse:
    """The page itself; open even when API keys are set (it asks for one before calling the API)."""
    return FileResponse(STATIC_DIR / "index.html", headers={"cache-control": "no-cache"})


def mount_web(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/web``."""
    app.include_router(_router)
    app.mount("/web", StaticFiles(directory=STATIC_DIR), name="web")
