"""The batch job table and every query on it.

Any SQLAlchemy URL works; the default is a SQLite file in ``$MIEN_HOME`` and PostgreSQL is used
through psycopg 3. Status moves only forward::

    QUEUED ──claim_next──▶ IN_PROGRESS ──complete──▶ COMPLETED
       ▲                      │  └──────fail──────▶ FAILED
       └──────requeue─────────┘  (FAILED instead once ``max_attempts`` runs were used up)

Several servers may share one database. Each claims jobs under its ``owner`` id (stable per
``$MIEN_HOME``) and renews a heartbeat on the jobs it runs. At start a server requeues its own
IN_PROGRESS jobs at once (it was restarted, so nobody runs them); another server's jobs are
requeued only once their heartbeat is stale, i.e. that server died.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import BigInteger, Engine, Index, String, Text, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from mien.errors import JobNotFoundError
from mien.settings import Settings

__all__ = ["MAX_ATTEMPTS", "JobRecord", "JobStatus", "JobStore", "now_ms"]

MAX_ATTEMPTS = 3
"""Runs a job may start before a crash of its worker fails it instead of requeueing it."""
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another connection's write lock."""

SortBy = Literal["created", "started", "ended"]
Direction = Literal["asc", "desc"]
When = Literal["created_before", "created_after"]


class JobStatus(StrEnum):
    """v0 job states; the values are the wire strings."""

    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


def now_ms() -> int:
    """Unix time in whole milliseconds, the unit of every v0 timestamp."""
    return time.time_ns() // 1_000_000


class _Base(DeclarativeBase):
    pass


class _JobRow(_Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_ms"),)

    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    started_ms: Mapped[int | None] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger)
    num_predictions: Mapped[int | None] = mapped_column(BigInteger)
    num_errors: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)
    # Deferred: list/get never load it, only get_predictions does.
    predictions: Mapped[str | None] = mapped_column(Text, deferred=True)
    attempts: Mapped[int] = mapped_column(default=0)
    callback_url: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(64))
    """The server running the job while IN_PROGRESS."""
    heartbeat_ms: Mapped[int | None] = mapped_column(BigInteger)
    """When that server last said it is still running the job."""


@dataclass(frozen=True)
class JobRecord:
    """One job as stored, without its predictions."""

    job_id: str
    request: dict[str, Any]
    """The resolved ``InferenceRequest`` wire dict, exactly as it was given to ``create``."""
    status: JobStatus
    created_ms: int
    started_ms: int | None
    """Set while IN_PROGRESS and after; cleared when a job is requeued."""
    ended_ms: int | None
    num_predictions: int | None
    """Set once COMPLETED."""
    num_errors: int | None
    message: str | None
    """Why the job FAILED."""
    attempts: int
    """How many times a worker has started this job."""
    callback_url: str | None


def _record(row: _JobRow) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        request=json.loads(row.request),
        status=JobStatus(row.status),
        created_ms=row.created_ms,
        started_ms=row.started_ms,
        ended_ms=row.ended_ms,
        num_predictions=row.num_predictions,
        num_errors=row.num_errors,
        message=row.message,
        attempts=row.attempts,
        callback_url=row.callback_url,
    )


def _make_engine(url: str) -> Engine:
    """Build an engine; bare ``postgresql://`` means psycopg 3, SQLite gets WAL and a busy wait."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    return engine


class JobStore:
    """Thread-safe access to the ``jobs`` table; every method is one short transaction."""

    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Connect to ``url`` and create the table if it is missing.

        Args:
            url: Any SQLAlchemy URL.
            max_attempts: Runs a job may start before a worker crash fails it.
            clock: Source of Unix-millisecond timestamps; tests pass a fake one.
        """
        self.engine = _make_engine(url)
        _Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._max_attempts = max_attempts
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStore:
        """Open the store that ``settings`` points at."""
        return cls(settings.resolved_database_url)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    def create(self, *, job_id: str, request: dict[str, Any]) -> JobRecord:
        """Queue a new job; ``request`` is stored verbatim and echoed back by ``get``."""
        row = _JobRow(
            job_id=job_id,
            request=json.dumps(request),
            status=JobStatus.QUEUED,
            created_ms=self._clock(),
            attempts=0,
            callback_url=request.get("callback_url"),
        )
        with self._sessions.begin() as session:
            session.add(row)
        return _record(row)

    def get(self, *, job_id: str) -> JobRecord:
        """Return one job, or raise :class:`~mien.errors.JobNotFoundError`."""
        with self._sessions() as session:
            return _record(_row(session, job_id))

    def get_predictions(self, *, job_id: str) -> builtins.list[dict[str, Any]] | None:
        """Return a job's predictions, or None while it is not COMPLETED."""
        with self._sessions() as session:
            text = session.scalar(select(_JobRow.predictions).where(_JobRow.job_id == job_id))
            if text is None:
                _row(session, job_id)  # raises for an unknown job
                return None
            result: builtins.list[dict[str, Any]] = json.loads(text)
            return result

    def list(
        self,
        *,
        limit: int = 50,
        statuses: Iterable[JobStatus | str] | None = None,
        when: When | None = None,
        timestamp_ms: int | None = None,
        sort_by: SortBy = "created",
        direction: Direction = "desc",
    ) -> builtins.list[JobRecord]:
        """Filter and sort jobs as v0's ``GET /v0/batch/jobs`` does.

        Args:
            limit: Most jobs to return.
            statuses: Keep only these; None or empty keeps all.
            when: Keep jobs created strictly before or after ``timestamp_ms``; None keeps all.
            timestamp_ms: The bound for ``when``; defaults to now.
            sort_by: Timestamp to order by. Jobs that lack it (not started, not ended) come last
                in either direction.
            direction: ``desc`` puts the newest first.
        """
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        query = select(_JobRow)
        wanted = [JobStatus(status) for status in statuses or ()]
        if wanted:
            query = query.where(_JobRow.status.in_(wanted))
        if when is not None:
            bound = self._clock() if timestamp_ms is None else timestamp_ms
            if when == "created_before":
                query = query.where(_JobRow.created_ms < bound)
            elif when == "created_after":
                query = query.where(_JobRow.created_ms > bound)
            else:
                raise ValueError(f"when must be created_before or created_after, got {when!r}")
        column = {
            "created": _JobRow.created_ms,
            "started": _JobRow.started_ms,
            "ended": _JobRow.ended_ms,
        }[sort_by]
        order = [column, _JobRow.created_ms, _JobRow.job_id]
        if direction == "desc":
            keys = [key.desc().nulls_last() for key in order]
        elif direction == "asc":
            keys = [key.asc().nulls_last() for key in order]
        else:
            raise ValueError(f"direction must be asc or desc, got {direction!r}")
        with self._sessions() as session:
            rows = session.scalars(query.order_by(*keys).limit(limit))
            return [_record(row) for row in rows]

    def claim_next(self, *, owner: str | None = None) -> JobRecord | None:
        """Move the oldest QUEUED job to IN_PROGRESS and return it, or None if none is queued.

        Safe with several claimers: PostgreSQL skips rows another transaction has locked, and
        the conditional UPDATE (checked by rowcount) lets exactly one SQLite claimer win a row.
        """
        oldest = (
            select(_JobRow.job_id)
            .where(_JobRow.status == JobStatus.QUEUED)
            .order_by(_JobRow.created_ms, _JobRow.job_id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        while True:
            with self._sessions.begin() as session:
                job_id = session.scalar(oldest)
                if job_id is None:
                    return None
                claimed = session.connection().execute(
                    update(_JobRow)
                    .where(_JobRow.job_id == job_id, _JobRow.status == JobStatus.QUEUED)
                    .values(
                        status=JobStatus.IN_PROGRESS,
                        started_ms=self._clock(),
                        attempts=_JobRow.attempts + 1,
                        owner=owner,
                        heartbeat_ms=self._clock(),
                    )
                )
                if claimed.rowcount == 1:
                    return _record(_row(session, job_id))

    def complete(
        self,
        *,
        job_id: str,
        predictions: builtins.list[dict[str, Any]],
        num_predictions: int,
        num_errors: int,
    ) -> JobRecord:
        """Mark a job COMPLETED and store its predictions."""
        with self._sessions.begin() as session:
            row = _row(session, job_id)
            row.status = JobStatus.COMPLETED
            row.ended_ms = self._clock()
            row.predictions = json.dumps(predictions, separators=(",", ":"))
            row.num_predictions = num_predictions
            row.num_errors = num_errors
            return _record(row)

    def fail(self, *, job_id: str, message: str) -> JobRecord:
        """Mark a job FAILED with a message for the user."""
        with self._sessions.begin() as session:
            row = _row(session, job_id)
            self._fail_row(row, message)
            return _record(row)

    def requeue(self, *, job_id: str) -> JobRecord:
        """Put a job whose worker died back in the queue, or fail it once its attempts are spent."""
        with self._sessions.begin() as session:
            row = _row(session, job_id)
            self._requeue_row(row)
            return _record(row)

    def heartbeat(self, *, job_ids: Iterable[str], owner: str) -> None:
        """Say that ``owner`` is still running these jobs."""
        ids = list(job_ids)
        if not ids:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(_JobRow)
                .where(
                    _JobRow.job_id.in_(ids),
                    _JobRow.owner == owner,
                    _JobRow.status == JobStatus.IN_PROGRESS,
                )
                .values(heartbeat_ms=self._clock())
            )

    def requeue_interrupted(
        self, *, owner: str | None = None, stale_after_ms: int | None = None
    ) -> builtins.list[JobRecord]:
        """Requeue (or fail, see ``requeue``) IN_PROGRESS jobs that nobody runs any more.

        Called as a server starts, with its ``owner``: its own jobs and jobs without an owner are
        requeued at once, other servers' jobs only once their heartbeat is older than
        ``stale_after_ms``. Without an ``owner``, every IN_PROGRESS job is requeued.

        Returns:
            The jobs touched, with their new status.
        """
        return self._requeue_where(
            lambda row: (
                owner is None or row.owner in (owner, None) or self._is_stale(row, stale_after_ms)
            )
        )

    def requeue_stale(self, *, owner: str, stale_after_ms: int) -> builtins.list[JobRecord]:
        """Requeue other servers' jobs whose heartbeat stopped: those servers died."""
        return self._requeue_where(
            lambda row: row.owner != owner and self._is_stale(row, stale_after_ms)
        )

    def _is_stale(self, row: _JobRow, stale_after_ms: int | None) -> bool:
        if stale_after_ms is None:
            return False
        beat = row.heartbeat_ms if row.heartbeat_ms is not None else row.started_ms or 0
        return beat < self._clock() - stale_after_ms

    def _requeue_where(self, interrupted: Callable[[_JobRow], bool]) -> builtins.list[JobRecord]:
        with self._sessions.begin() as session:
            rows = session.scalars(
                select(_JobRow)
                .where(_JobRow.status == JobStatus.IN_PROGRESS)
                .order_by(_JobRow.created_ms)
                .with_for_update()
            ).all()
            touched = [row for row in rows if interrupted(row)]
            for row in touched:
                self._requeue_row(row)
            return [_record(row) for row in touched]

    def _requeue_row(self, row: _JobRow) -> None:
        if row.attempts >= self._max_attempts:
            self._fail_row(
                row,
                f"The job stopped its worker process {row.attempts} times (a native crash, "
                "running out of memory or a server restart); giving up.",
            )
        else:
            row.status = JobStatus.QUEUED
            row.started_ms = None
            row.owner = row.heartbeat_ms = None

    def _fail_row(self, row: _JobRow, message: str) -> None:
        row.status = JobStatus.FAILED
        row.ended_ms = self._clock()
        row.message = message


def _row(session: Session, job_id: str) -> _JobRow:
    row = session.get(_JobRow, job_id)
    if row is None:
        raise JobNotFoundError(f"No job with id {job_id}.")
    return row
