"""``/healthz`` (open to load balancers, even with API keys) and ``/models`` (a mien extension)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from mien import __version__
from mien.api.deps import require_api_key
from mien.models import available_models, describe_models

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> dict[str, Any]:
    """Liveness, version and the models this server can run."""
    return {"status": "ok", "version": __version__, "models": available_models()}


@router.get("/models", dependencies=[Depends(require_api_key)])
def models() -> dict[str, Any]:
    """Each model: whether it runs, its pinned weights, and where each dimension's score comes from.

    Sources: ``label`` (a trained label), ``mapped`` (a combination of trained labels),
    ``prototype`` (similarity to written descriptions: no learned signal of its own), ``mixed``.
    """
    return {"models": describe_models()}
