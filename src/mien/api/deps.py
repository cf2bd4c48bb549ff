"""FastAPI dependencies: what a handler needs, stated in its signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from mien.api.auth import key_from, key_is_valid
from mien.jobs.executor import Executor
from mien.jobs.store import JobStore
from mien.settings import Settings

__all__ = ["ExecutorDep", "SettingsDep", "StoreDep", "require_api_key"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> JobStore:
    store: JobStore = request.app.state.store
    return store


def _executor(request: Request) -> Executor:
    executor: Executor = request.app.state.executor
    return executor


SettingsDep = Annotated[Settings, Depends(_settings)]
StoreDep = Annotated[JobStore, Depends(_store)]
ExecutorDep = Annotated[Executor, Depends(_executor)]


def require_api_key(request: Request, settings: SettingsDep) -> None:
    """Refuse a request without a valid key when keys are configured."""
    presented = key_from(request.headers, request.query_params, allow_query=False)
    if not key_is_valid(presented, settings.api_keys):
        raise HTTPException(
            status_code=401,
            detail="missing or invalid API key: send X-Hume-Api-Key or Authorization: Bearer",
        )
