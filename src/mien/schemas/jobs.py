"""Job objects of the batch API: the job, its state, and the list/create responses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mien.schemas.common import WireModel
from mien.schemas.config import InferenceRequest

__all__ = [
    "InferenceJob",
    "JobId",
    "JobStatus",
    "StateCompleted",
    "StateFailed",
    "StateInProgress",
    "StateInference",
    "StateQueued",
]

JobStatus = Literal["QUEUED", "IN_PROGRESS", "COMPLETED", "FAILED"]


class JobId(WireModel):
    """Response of ``POST /v0/batch/jobs``."""

    job_id: str


class StateQueued(WireModel):
    """Accepted, waiting for a worker."""

    status: Literal["QUEUED"] = "QUEUED"
    created_timestamp_ms: int


class StateInProgress(WireModel):
    """A worker is running the job."""

    status: Literal["IN_PROGRESS"] = "IN_PROGRESS"
    created_timestamp_ms: int
    started_timestamp_ms: int


class StateCompleted(WireModel):
    """Finished; per-file failures are counted in ``num_errors``."""

    status: Literal["COMPLETED"] = "COMPLETED"
    created_timestamp_ms: int
    started_timestamp_ms: int
    ended_timestamp_ms: int
    num_predictions: int
    num_errors: int


class StateFailed(WireModel):
    """The job as a whole could not run."""

    status: Literal["FAILED"] = "FAILED"
    created_timestamp_ms: int
    started_timestamp_ms: int
    ended_timestamp_ms: int
    message: str


StateInference = Annotated[
    StateQueued | StateInProgress | StateCompleted | StateFailed, Field(discriminator="status")
]


class InferenceJob(WireModel):
    """``GET /v0/batch/jobs/{id}``: the echoed request and the current state."""

    job_id: str
    request: InferenceRequest
    state: StateInference
    type: Literal["INFERENCE"] = "INFERENCE"
