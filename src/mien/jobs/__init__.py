"""Batch jobs: the job store, the executor that runs them, and result callbacks."""

from __future__ import annotations

from mien.jobs.executor import Executor, InlineExecutor, LocalExecutor
from mien.jobs.outcome import JobOutcome
from mien.jobs.store import JobRecord, JobStatus, JobStore

__all__ = [
    "Executor",
    "InlineExecutor",
    "JobOutcome",
    "JobRecord",
    "JobStatus",
    "JobStore",
    "LocalExecutor",
]
