"""Executor tests with a fake work function run in real spawned worker processes.

One pool is shared by the module's tests because each spawn costs about a second.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from mien.errors import MediaError
from mien.jobs import InlineExecutor, JobOutcome, JobStatus, JobStore, LocalExecutor
from mien.jobs.executor import server_id
from mien.jobs.store import MAX_ATTEMPTS, JobRecord
from mien.settings import Settings
from test_jobs_callbacks import CallbackServer

T = TypeVar("T")


def act_out_text(job_id: str, settings: Settings) -> JobOutcome:
    """Act out the job's first text, reading the request from the store as the pipeline does."""
    store = JobStore.from_settings(settings)
    try:
        action = store.get(job_id=job_id).request["text"][0]
    finally:
        store.close()
    if action == "crash":
        os._exit(1)
    if action == "sleep":
        (settings.home / f"{job_id}.running").touch()
        time.sleep(60)
    if action == "media error":
        raise MediaError("No usable input: every file failed.")
    if action == "bug":
        raise ValueError("boom")
    predictions = [
        {
            "source": {"type": "text"},
            "results": {"predictions": [{"text": action, "pid": os.getpid()}], "errors": []},
        }
    ]
    return JobOutcome(predictions=predictions, num_predictions=1, num_errors=0)


def _wait_for(condition: Callable[[], T | None], timeout_s: float = 30) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (value := condition()) is not None:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def _wait_until(store: JobStore, job_id: str, *statuses: JobStatus) -> JobRecord:
    def check() -> JobRecord | None:
        record = store.get(job_id=job_id)
        return record if record.status in statuses else None

    return _wait_for(check)


def _settings(home: Path) -> Settings:
    return Settings(
        home=home,
        database_url=None,
        workers=1,
        callback_backoff_s=0.01,
        allow_private_urls=True,  # callbacks go to 127.0.0.1
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackServer]:
    with CallbackServer() as server:
        yield server


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _settings(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def store(settings: Settings) -> Iterator[JobStore]:
    store = JobStore.from_settings(settings)
    yield store
    store.close()


@pytest.fixture(scope="module")
def executor(store: JobStore, settings: Settings) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(store, settings, act_out_text, poll_s=0.2)
    executor.start()
    yield executor
    executor.stop()


def _submit(
    store: JobStore, executor: LocalExecutor, action: str, callback_url: str | None = None
) -> str:
    job_id = f"{action.replace(' ', '-')}-{time.monotonic_ns()}"
    store.create(job_id=job_id, request={"text": [action], "callback_url": callback_url})
    executor.wake()
    return job_id


def test_job_runs_to_completed_in_a_reused_worker(
    store: JobStore, executor: LocalExecutor, receiver: CallbackServer
) -> None:
    url = receiver.url()
    first = _submit(store, executor, "hello", url)
    done = _wait_until(store, first, JobStatus.COMPLETED, JobStatus.FAILED)
    second = _submit(store, executor, "again")
    _wait_until(store, second, JobStatus.COMPLETED)

    predictions = store.get_predictions(job_id=first)
    assert done.status is JobStatus.COMPLETED
    assert (done.num_predictions, done.num_errors, done.attempts) == (1, 0, 1)
    assert predictions is not None
    [prediction] = predictions[0]["results"]["predictions"]
    assert prediction["text"] == "hello"
    assert prediction["pid"] != os.getpid()
    again = store.get_predictions(job_id=second)
    assert again is not None
    assert again[0]["results"]["predictions"][0]["pid"] == prediction["pid"]
    bodies = _wait_for(lambda: receiver.bodies(url) or None)
    assert bodies == [{"job_id": first, "status": "COMPLETED", "predictions": predictions}]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("media error", "No usable input: every file failed."),
        ("bug", "ValueError: boom"),
    ],
)
def test_raising_work_fails_the_job(
    store: JobStore,
    executor: LocalExecutor,
    receiver: CallbackServer,
    action: str,
    message: str,
) -> None:
    url = receiver.url([500])
    job_id = _submit(store, executor, action, url)

    failed = _wait_until(store, job_id, JobStatus.COMPLETED, JobStatus.FAILED)

    assert (failed.status, failed.message, failed.attempts) == (JobStatus.FAILED, message, 1)
    assert store.get_predictions(job_id=job_id) is None
    expected = {"job_id": job_id, "status": "FAILED", "message": message}
    assert _wait_for(lambda: receiver.bodies(url)[1:] or None) == [expected]
    assert receiver.bodies(url)[0] == expected  # the first try got a 500 and was retried


def test_a_crashing_worker_is_retried_then_failed(
    store: JobStore, executor: LocalExecutor, receiver: CallbackServer
) -> None:
    url = receiver.url()
    crasher = _submit(store, executor, "crash", url)

    failed = _wait_until(store, crasher, JobStatus.COMPLETED, JobStatus.FAILED)
    survivor = _submit(store, executor, "still serving")

    assert failed.status is JobStatus.FAILED
    assert failed.attempts == MAX_ATTEMPTS
    assert failed.message is not None and "worker process" in failed.message
    assert _wait_for(lambda: receiver.bodies(url) or None) == [
        {"job_id": crasher, "status": "FAILED", "message": failed.message}
    ]
    assert _wait_until(store, survivor, JobStatus.COMPLETED, JobStatus.FAILED).status == (
        JobStatus.COMPLETED
    )


def _finish_inline(job_id: str, settings: Settings) -> JobOutcome:
    return JobOutcome(predictions=[{"ran": job_id}], num_predictions=1, num_errors=0)


def test_stop_is_prompt_and_a_restart_finishes_the_job(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = JobStore.from_settings(settings)
    first = LocalExecutor(store, settings, act_out_text, poll_s=0.2)
    first.start()
    store.create(job_id="long", request={"text": ["sleep"]})
    first.wake()
    _wait_for(lambda: (tmp_path / "long.running").exists() or None)

    started = time.monotonic()
    first.stop()
    stop_s = time.monotonic() - started
    left = store.get(job_id="long")

    second = InlineExecutor(store, settings, _finish_inline, poll_s=0.2)
    second.start()
    try:
        done = _wait_until(store, "long", JobStatus.COMPLETED, JobStatus.FAILED)
    finally:
        second.stop()
    predictions: Any = store.get_predictions(job_id="long")
    store.close()

    assert stop_s < 5
    assert left.status is JobStatus.IN_PROGRESS
    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 2)
    assert predictions == [{"ran": "long"}]


def test_a_second_server_on_the_same_database_leaves_running_jobs_alone(tmp_path: Path) -> None:
    shared_db = f"sqlite:///{tmp_path / 'shared.db'}"
    first_settings = _settings(tmp_path / "first").model_copy(update={"database_url": shared_db})
    second_settings = _settings(tmp_path / "second").model_copy(update={"database_url": shared_db})
    store = JobStore(shared_db)
    first = LocalExecutor(store, first_settings, act_out_text, poll_s=0.2)
    first.start()
    store.create(job_id="long", request={"text": ["sleep"]})
    first.wake()
    _wait_for(lambda: (first_settings.home / "long.running").exists() or None)

    second = InlineExecutor(store, second_settings, _finish_inline, poll_s=0.2)
    second.start()
    time.sleep(0.5)
    running = store.get(job_id="long")
    second.stop()
    first.stop()
    store.close()

    assert server_id(first_settings.home) != server_id(second_settings.home)
    assert server_id(first_settings.home) == server_id(first_settings.home)
    assert (running.status, running.attempts) == (JobStatus.IN_PROGRESS, 1)
