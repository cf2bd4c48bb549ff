"""``/healthz``: open to load balancers, even when API keys are configured."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from mien import __version__
from mien.models import available_models

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Liveness, version and the models this server can run."""
    return {"status": "ok", "version": __version__, "models": available_models()}
