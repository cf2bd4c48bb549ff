"""Small helpers shared by the API tests."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx


def wait_for_job(
    url: str, job_id: str, *, headers: dict[str, str] | None = None, timeout_s: float = 300
) -> dict[str, Any]:
    """Poll a job until it ends, as the SDKs do (every second, bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = httpx.get(f"{url}/v0/batch/jobs/{job_id}", headers=headers).json()
        if job["state"]["status"] in ("COMPLETED", "FAILED"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['state']['status']}")
        time.sleep(0.2)


def upload_job(
    url: str, path: Path, name: str, body: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """Start a multipart job with one file as v0 clients do, wait, and return its predictions."""
    with path.open("rb") as upload:
        response = httpx.post(
            f"{url}/v0/batch/jobs",
            data={"json": json.dumps(body)},
            files={"file": (name, upload, "application/octet-stream")},
        )
    job_id: str = response.json()["job_id"]
    assert wait_for_job(url, job_id)["state"]["status"] == "COMPLETED"
    predictions: list[dict[str, Any]] = httpx.get(
        f"{url}/v0/batch/jobs/{job_id}/predictions"
    ).json()
    return job_id, predictions


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """An in-memory zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def top(emotions: list[dict[str, Any]], n: int = 3) -> list[str]:
    """Names of the n highest-scoring dimensions."""
    return [e["name"] for e in sorted(emotions, key=lambda e: -e["score"])[:n]]
