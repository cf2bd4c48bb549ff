"""The one place where errors become HTTP answers: ``{"message": ...}`` bodies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse

from mien.errors import JobNotFoundError, MienError

__all__ = ["add_error_handlers", "describe_errors"]


def describe_errors(errors: Iterable[Mapping[str, Any]], *, whole: str = "body") -> str:
    """Pydantic's validation errors as one readable line: ``models.face.prob_threshold: …``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or whole}: {error['msg']}"
        for error in errors
    )


def add_error_handlers(app: FastAPI) -> None:
    """HTTP errors, request validation (400, not FastAPI's 422) and ``MienError``s."""

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse(
            {"message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"message": describe_errors(exc.errors())}, status_code=400)

    async def mien_error(request: Request, exc: Exception) -> JSONResponse:
        status = 404 if isinstance(exc, JobNotFoundError) else 400
        return JSONResponse({"message": str(exc)}, status_code=status)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(MienError, mien_error)
