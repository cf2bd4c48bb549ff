"""Job store tests, run on SQLite and, when MIEN_TEST_POSTGRES_URL is set, on PostgreSQL.

Start a throwaway server for the PostgreSQL half with ``source .ci/postgres.sh``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from mien.errors import JobNotFoundError
from mien.jobs.store import MAX_ATTEMPTS, JobRecord, JobStatus, JobStore
from mien.settings import Settings

POSTGRES_URL = os.environ.get("MIEN_TEST_POSTGRES_URL")

REQUEST: dict[str, Any] = {
    "models": {
        "language": {
            "granularity": "word",
            "sentiment": {},
            "toxicity": None,
            "identify_speakers": False,
        }
    },
    "transcription": None,
    "urls": [],
    "text": ["I can't believe it worked 🎉", "Ça marche."],
    "files": [{"filename": "a.txt", "content_type": "text/plain", "md5sum": "0" * 32}],
    "callback_url": "https://example.com/hook?job=1",
    "notify": False,
}


class Clock:
    """A settable millisecond clock, so every timestamp in an assertion is exact."""

    def __init__(self) -> None:
        self.now_ms = 1_000

    def __call__(self) -> int:
        return self.now_ms


def _drop_jobs_table(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS jobs"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("MIEN_TEST_POSTGRES_URL is not set (source .ci/postgres.sh)")
    _drop_jobs_table(POSTGRES_URL)
    yield POSTGRES_URL
    _drop_jobs_table(POSTGRES_URL)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[JobStore]:
    store = JobStore(database_url, clock=clock)
    yield store
    store.close()


def _create(store: JobStore, clock: Clock, job_id: str, at_ms: int) -> JobRecord:
    clock.now_ms = at_ms
    return store.create(job_id=job_id, request={"text": [job_id]})


def _claim(store: JobStore, clock: Clock, at_ms: int) -> JobRecord:
    clock.now_ms = at_ms
    record = store.claim_next()
    assert record is not None
    return record


def test_create_then_get_echoes_the_request(store: JobStore, clock: Clock) -> None:
    clock.now_ms = 1_712_590_457_884
    created = store.create(job_id="7d7e0f5e-0000-4000-8000-000000000001", request=REQUEST)

    fetched = store.get(job_id=created.job_id)

    assert fetched == created
    assert fetched.request == REQUEST
    assert fetched.status is JobStatus.QUEUED
    assert fetched.created_ms == 1_712_590_457_884
    assert (fetched.started_ms, fetched.ended_ms, fetched.message) == (None, None, None)
    assert (fetched.num_predictions, fetched.num_errors, fetched.attempts) == (None, None, 0)
    assert fetched.callback_url == "https://example.com/hook?job=1"
    assert store.get_predictions(job_id=created.job_id) is None


def test_unknown_job_raises_not_found(store: JobStore) -> None:
    calls: list[Callable[[], object]] = [
        lambda: store.get(job_id="nope"),
        lambda: store.get_predictions(job_id="nope"),
        lambda: store.complete(job_id="nope", predictions=[], num_predictions=0, num_errors=0),
        lambda: store.fail(job_id="nope", message="x"),
        lambda: store.requeue(job_id="nope"),
    ]
    for call in calls:
        with pytest.raises(JobNotFoundError, match="nope"):
            call()


@pytest.fixture
def five_jobs(store: JobStore, clock: Clock) -> JobStore:
    """a COMPLETED, b FAILED, c IN_PROGRESS, d and e QUEUED; created 1000…5000, now 6000."""
    for at_ms, job_id in enumerate("abcde", start=1):
        _create(store, clock, job_id, at_ms * 1_000)
    assert _claim(store, clock, 1_500).job_id == "a"
    assert _claim(store, clock, 2_500).job_id == "b"
    clock.now_ms = 3_000
    store.fail(job_id="b", message="no usable input")
    assert _claim(store, clock, 3_500).job_id == "c"
    clock.now_ms = 4_000
    store.complete(job_id="a", predictions=[], num_predictions=0, num_errors=0)
    clock.now_ms = 6_000
    return store


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "edcba"),
        ({"direction": "asc"}, "abcde"),
        ({"limit": 2}, "ed"),
        ({"limit": 0}, ""),
        ({"statuses": [JobStatus.QUEUED]}, "ed"),
        ({"statuses": ["COMPLETED", "FAILED"]}, "ba"),
        ({"statuses": []}, "edcba"),
        ({"when": "created_before", "timestamp_ms": 3_000}, "ba"),
        ({"when": "created_before", "timestamp_ms": 3_001}, "cba"),
        ({"when": "created_after", "timestamp_ms": 3_000}, "ed"),
        ({"when": "created_before"}, "edcba"),
        ({"when": "created_after"}, ""),
        ({"timestamp_ms": 3_000}, "edcba"),
        # Jobs without the sort timestamp come last either way, newest first when descending.
        ({"sort_by": "started"}, "cbaed"),
        ({"sort_by": "started", "direction": "asc"}, "abcde"),
        ({"sort_by": "ended"}, "abedc"),
        ({"sort_by": "ended", "direction": "asc"}, "bacde"),
        (
            {
                "statuses": ["QUEUED", "IN_PROGRESS"],
                "when": "created_after",
                "timestamp_ms": 2_500,
                "sort_by": "started",
                "limit": 2,
            },
            "ce",
        ),
    ],
)
def test_list_filters_and_sorts_like_v0(
    five_jobs: JobStore, query: dict[str, Any], expected: str
) -> None:
    jobs = five_jobs.list(**query)

    assert "".join(job.job_id for job in jobs) == expected


def test_list_returns_full_records(five_jobs: JobStore) -> None:
    by_id = {job.job_id: job for job in five_jobs.list()}

    assert by_id["a"].status is JobStatus.COMPLETED
    assert (by_id["a"].started_ms, by_id["a"].ended_ms) == (1_500, 4_000)
    assert by_id["b"].status is JobStatus.FAILED
    assert by_id["b"].message == "no usable input"
    assert by_id["c"].status is JobStatus.IN_PROGRESS
    assert by_id["e"].request == {"text": ["e"]}


def test_list_rejects_bad_arguments(five_jobs: JobStore) -> None:
    with pytest.raises(ValueError):
        five_jobs.list(statuses=["DONE"])
    with pytest.raises(ValueError):
        five_jobs.list(limit=-1)


def test_claim_next_takes_the_oldest_and_counts_attempts(store: JobStore, clock: Clock) -> None:
    assert store.claim_next() is None
    _create(store, clock, "newer", 2_000)
    _create(store, clock, "older", 1_000)

    first = _claim(store, clock, 5_000)
    second = _claim(store, clock, 6_000)

    assert (first.job_id, first.status, first.started_ms, first.attempts) == (
        "older",
        JobStatus.IN_PROGRESS,
        5_000,
        1,
    )
    assert second.job_id == "newer"
    assert store.claim_next() is None
    assert store.get(job_id="older") == first


def test_two_claimers_never_take_the_same_job(database_url: str, store: JobStore) -> None:
    job_ids = {f"job-{index:02d}" for index in range(40)}
    for job_id in sorted(job_ids):
        store.create(job_id=job_id, request={})
    rivals = [JobStore(database_url), JobStore(database_url)]
    claimed: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def claim_all(index: int) -> None:
        start.wait()
        while (record := rivals[index].claim_next()) is not None:
            claimed[index].append(record.job_id)

    threads = [threading.Thread(target=claim_all, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for rival in rivals:
        rival.close()

    assert not set(claimed[0]) & set(claimed[1])
    assert sorted(claimed[0] + claimed[1]) == sorted(job_ids)
    assert all(job.attempts == 1 for job in store.list(limit=100))


def test_complete_stores_predictions(store: JobStore, clock: Clock) -> None:
    _create(store, clock, "job", 1_000)
    _claim(store, clock, 2_000)
    predictions = [
        {
            "source": {"type": "text"},
            "results": {"predictions": [{"text": f"word {i} 🎉", "score": i / 7}], "errors": []},
        }
        for i in range(2_000)
    ]
    clock.now_ms = 3_000

    done = store.complete(job_id="job", predictions=predictions, num_predictions=1, num_errors=0)

    assert done.status is JobStatus.COMPLETED
    assert (done.started_ms, done.ended_ms) == (2_000, 3_000)
    assert (done.num_predictions, done.num_errors) == (1, 0)
    assert store.get(job_id="job") == done
    assert store.get_predictions(job_id="job") == predictions


def test_fail_records_the_message(store: JobStore, clock: Clock) -> None:
    _create(store, clock, "job", 1_000)
    _claim(store, clock, 2_000)
    clock.now_ms = 2_500

    failed = store.fail(job_id="job", message="all 3 files failed: unsupported media")

    assert failed.status is JobStatus.FAILED
    assert failed.ended_ms == 2_500
    assert failed.message == "all 3 files failed: unsupported media"
    assert store.get(job_id="job") == failed
    assert store.get_predictions(job_id="job") is None


def test_requeue_interrupted_puts_running_jobs_back(store: JobStore, clock: Clock) -> None:
    _create(store, clock, "running", 1_000)
    _create(store, clock, "done", 2_000)
    _create(store, clock, "waiting", 3_000)
    _claim(store, clock, 4_000)
    _claim(store, clock, 4_000)
    store.complete(job_id="done", predictions=[], num_predictions=0, num_errors=0)

    touched = store.requeue_interrupted()

    assert [(job.job_id, job.status) for job in touched] == [("running", JobStatus.QUEUED)]
    running = store.get(job_id="running")
    assert (running.status, running.started_ms, running.attempts) == (JobStatus.QUEUED, None, 1)
    assert store.get(job_id="done").status is JobStatus.COMPLETED
    assert store.get(job_id="waiting").status is JobStatus.QUEUED
    assert _claim(store, clock, 5_000).attempts == 2


def test_a_job_that_keeps_crashing_is_failed(store: JobStore, clock: Clock) -> None:
    _create(store, clock, "crasher", 1_000)
    for attempt in range(1, MAX_ATTEMPTS):
        assert _claim(store, clock, 2_000).attempts == attempt
        assert store.requeue(job_id="crasher").status is JobStatus.QUEUED
    assert _claim(store, clock, 3_000).attempts == MAX_ATTEMPTS
    clock.now_ms = 4_000

    [failed] = store.requeue_interrupted()

    assert failed.status is JobStatus.FAILED
    assert failed.ended_ms == 4_000
    assert failed.message is not None and f"{MAX_ATTEMPTS} times" in failed.message
    assert store.claim_next() is None


def test_restart_on_the_same_home_finds_the_jobs(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None)
    before = JobStore.from_settings(settings)
    before.create(job_id="queued", request={})
    before.create(job_id="running", request={})
    assert before.claim_next() is not None
    before.close()

    after = JobStore.from_settings(settings)
    after.requeue_interrupted()
    claimed = [after.claim_next(), after.claim_next()]
    with after.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    after.close()

    assert (tmp_path / "home" / "mien.db").is_file()
    assert journal == "wal"
    assert sorted(job.job_id for job in claimed if job) == ["queued", "running"]


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="MIEN_TEST_POSTGRES_URL is not set")
def test_plain_postgresql_url_uses_psycopg() -> None:
    assert POSTGRES_URL is not None
    _drop_jobs_table(POSTGRES_URL)
    store = JobStore(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://"))
    try:
        store.create(job_id="job", request={})
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert store.get(job_id="job").status is JobStatus.QUEUED
    finally:
        store.close()
        _drop_jobs_table(POSTGRES_URL)


def test_a_server_requeues_its_own_jobs_at_once_and_others_only_when_stale(
    store: JobStore, clock: Clock
) -> None:
    for index, job_id in enumerate(["mine", "theirs", "dead", "orphan"]):
        _create(store, clock, job_id, 1_000 + index)
    clock.now_ms = 2_000
    assert store.claim_next(owner="me") is not None  # mine
    assert store.claim_next(owner="live") is not None  # theirs
    assert store.claim_next(owner="dead") is not None  # dead
    assert store.claim_next() is not None  # orphan: claimed by an older server without an id
    clock.now_ms = 50_000
    store.heartbeat(job_ids=["theirs"], owner="live")
    store.heartbeat(job_ids=["dead"], owner="someone else")  # not its job: ignored

    clock.now_ms = 70_000
    touched = store.requeue_interrupted(owner="me", stale_after_ms=60_000)

    assert sorted(job.job_id for job in touched) == ["dead", "mine", "orphan"]
    assert store.get(job_id="theirs").status is JobStatus.IN_PROGRESS
    requeued = store.get(job_id="mine")
    assert (requeued.status, requeued.started_ms) == (JobStatus.QUEUED, None)

    clock.now_ms = 200_000
    assert [job.job_id for job in store.requeue_stale(owner="me", stale_after_ms=60_000)] == [
        "theirs"
    ]
    assert store.requeue_stale(owner="me", stale_after_ms=60_000) == []
