"""The batch API: ``/v0/batch/jobs`` and its sub-resources (v0-api.md §1)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mien.api.deps import ExecutorDep, SettingsDep, StoreDep
from mien.api.errors import describe_errors
from mien.api.uploads import UploadError, read_upload
from mien.errors import MediaError
from mien.jobs.store import JobRecord
from mien.media import check_url
from mien.schemas import (
    InferenceBaseRequest,
    InferenceJob,
    InferenceRequest,
    JobId,
    JobStatus,
    SourceFile,
)
from mien.settings import Settings

__all__ = ["job_dir", "router", "to_wire"]

router = APIRouter(prefix="/v0/batch", tags=["batch"])


def job_dir(settings: Settings, job_id: str) -> Path:
    """Folder of one job: ``inputs/<i>`` uploads and ``artifacts.zip``."""
    return settings.jobs_dir / job_id


def to_wire(record: JobRecord) -> InferenceJob:
    """The v0 job object of a stored job."""
    state: dict[str, Any] = {"status": record.status, "created_timestamp_ms": record.created_ms}
    if record.status != "QUEUED":
        state["started_timestamp_ms"] = record.started_ms or record.created_ms
    if record.status == "COMPLETED":
        state |= {
            "ended_timestamp_ms": record.ended_ms,
            "num_predictions": record.num_predictions,
            "num_errors": record.num_errors,
        }
    elif record.status == "FAILED":
        state |= {"ended_timestamp_ms": record.ended_ms, "message": record.message or ""}
    return InferenceJob.model_validate(
        {"job_id": record.job_id, "request": record.request, "state": state}
    )


@router.post("/jobs", response_model=JobId)
async def start_job(
    request: Request, settings: SettingsDep, store: StoreDep, executor: ExecutorDep
) -> JobId:
    """Start a job from JSON (``urls``, ``text``) or multipart (``file`` parts, ``json`` part)."""
    job_id = str(uuid.uuid4())
    inputs = job_dir(settings, job_id) / "inputs"
    content_type = request.headers.get("content-type", "")
    files: list[SourceFile] = []
    try:
        if content_type.startswith("multipart/form-data"):
            base, files = await _read_multipart(request, inputs)
        else:
            base = _parse_base(await request.body())
        if not (base.urls or base.text or files):
            raise HTTPException(400, "nothing to process: give at least one of urls, text or file")
        if base.models is not None and not base.models.requested():
            raise HTTPException(400, "models names no model; omit it to run every model")
        if base.callback_url is not None:
            _check_callback(base.callback_url, settings)
        resolved = InferenceRequest(**base.resolved().model_dump(), files=files)
        await run_in_threadpool(
            lambda: store.create(job_id=job_id, request=resolved.model_dump(mode="json"))
        )
    except BaseException:
        shutil.rmtree(job_dir(settings, job_id), ignore_errors=True)
        raise
    executor.wake()
    return JobId(job_id=job_id)


def _parse_base(raw: bytes | str) -> InferenceBaseRequest:
    try:
        payload = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise HTTPException(400, "request body must be a JSON object")
    try:
        return InferenceBaseRequest.model_validate(payload)
    except ValidationError as exc:
        raise HTTPException(400, describe_errors(exc.errors())) from exc


async def _read_multipart(
    request: Request, inputs: Path
) -> tuple[InferenceBaseRequest, list[SourceFile]]:
    """Save the ``file`` parts into ``inputs`` and parse the ``json`` part, if any."""
    try:
        upload = await read_upload(request, inputs)
    except UploadError as exc:
        raise HTTPException(400, str(exc)) from exc
    base = _parse_base(upload.json) if upload.json else InferenceBaseRequest()
    return base, upload.files


def _check_callback(url: str, settings: Settings) -> None:
    """A callback that could never be delivered is refused now, not silently at the end."""
    try:
        check_url(url, settings)
    except MediaError as exc:
        raise HTTPException(400, f"callback_url: {exc}") from exc


@router.get("/jobs", response_model=list[InferenceJob])
def list_jobs(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    status: Annotated[list[JobStatus] | None, Query()] = None,
    when: Literal["created_before", "created_after"] | None = None,
    timestamp_ms: int | None = None,
    sort_by: Literal["created", "started", "ended"] = "created",
    direction: Literal["asc", "desc"] = "desc",
) -> list[InferenceJob]:
    """List jobs, newest first by default."""
    records = store.list(
        limit=limit,
        statuses=status,
        when=when,
        timestamp_ms=timestamp_ms,
        sort_by=sort_by,
        direction=direction,
    )
    return [to_wire(record) for record in records]


@router.get("/jobs/{job_id}", response_model=InferenceJob)
def get_job(job_id: str, store: StoreDep) -> InferenceJob:
    """One job: its echoed request and state."""
    return to_wire(store.get(job_id=job_id))


@router.get("/jobs/{job_id}/predictions")
def get_predictions(job_id: str, store: StoreDep) -> JSONResponse:
    """Predictions of a completed job, one entry per source."""
    record = store.get(job_id=job_id)
    if record.status != "COMPLETED":
        raise HTTPException(
            400, f"job {job_id} is {record.status}; predictions exist once it is COMPLETED"
        )
    return JSONResponse(store.get_predictions(job_id=job_id))


@router.get("/jobs/{job_id}/artifacts")
def get_artifacts(job_id: str, store: StoreDep, settings: SettingsDep) -> FileResponse:
    """A zip of per-model CSV files and the predictions JSON."""
    record = store.get(job_id=job_id)
    path = job_dir(settings, job_id) / "artifacts.zip"
    if record.status != "COMPLETED" or not path.exists():
        raise HTTPException(
            400, f"job {job_id} is {record.status}; artifacts exist once it is COMPLETED"
        )
    return FileResponse(
        path, media_type="application/octet-stream", filename=f"{job_id}-artifacts.zip"
    )
