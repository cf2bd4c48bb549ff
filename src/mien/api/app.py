"""Build the FastAPI app: settings, job store and executor live in the lifespan, not at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from mien import __version__
from mien.api import stream
from mien.api.deps import require_api_key
from mien.api.errors import add_error_handlers
from mien.api.routes import batch, health
from mien.jobs.executor import Executor, LocalExecutor
from mien.jobs.store import JobStore
from mien.settings import Settings
from mien.web import mount_web

__all__ = ["create_app"]

logger = logging.getLogger("mien.server")

ExecutorFactory = Callable[[JobStore, Settings], Executor]


def create_app(
    settings: Settings | None = None, *, executor_factory: ExecutorFactory | None = None
) -> FastAPI:
    """The mien server. ``executor_factory`` swaps how jobs run (tests run them inline)."""
    settings = settings or Settings()
    make_executor = executor_factory or (lambda store, s: LocalExecutor(store, s))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.home.mkdir(parents=True, exist_ok=True)
        store = JobStore.from_settings(settings)
        executor = make_executor(store, settings)
        app.state.settings, app.state.store, app.state.executor = settings, store, executor
        if settings.api_keys:
            logger.info("API keys required (%d configured)", len(settings.api_keys))
        else:
            logger.warning("no API keys configured: the server is open to anyone who can reach it")
        executor.start()
        try:
            yield
        finally:
            executor.stop()
            store.close()

    app = FastAPI(
        title="mien",
        version=__version__,
        lifespan=lifespan,
        description="Self-hosted expression measurement, wire-compatible with Hume's "
        "v0 Expression Measurement API.",
    )
    app.state.settings = settings
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["X-Hume-Api-Key", "Authorization", "Content-Type"],
        )
    app.include_router(health.router)
    app.include_router(batch.router, dependencies=[Depends(require_api_key)])
    app.include_router(stream.router)
    mount_web(app)
    add_error_handlers(app)
    return app
