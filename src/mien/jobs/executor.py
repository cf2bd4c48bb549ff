"""Run queued batch jobs, behind a three-method seam so another runner (Ray) can replace it.

A dispatcher thread claims jobs from the store, at most ``settings.workers`` at a time, and hands
each to a pool as ``work(job_id, settings)``. The work function reads the job's request and inputs
itself and returns a :class:`~mien.jobs.outcome.JobOutcome`; only the dispatcher thread writes the
job's end state, then the callback (if any) is posted from a separate thread.

:class:`LocalExecutor` runs work in spawned worker processes that live across jobs, so models load
once per worker and a native crash or out-of-memory kill takes down one worker, not the server:
the job is requeued and, after ``max_attempts`` runs (see :mod:`mien.jobs.store`), failed.
A crash also requeues any other job running in the same pool at that moment.

``stop`` returns promptly: running jobs are abandoned IN_PROGRESS and ``start`` (of this or the
next server on the same database) requeues them. Callbacks still waiting to be retried are dropped.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from mien.errors import MienError
from mien.jobs.callbacks import completed_body, failed_body, post_callback
from mien.jobs.outcome import JobOutcome
from mien.jobs.store import JobRecord, JobStatus, JobStore
from mien.settings import Settings

__all__ = ["DEFAULT_WORK", "Executor", "InlineExecutor", "LocalExecutor", "Work", "server_id"]

logger = logging.getLogger(__name__)

Work = Callable[[str, Settings], JobOutcome]
_Pool = TypeVar("_Pool", bound=concurrent.futures.Executor)
DEFAULT_WORK = "mien.pipeline:run_job"
HEARTBEAT_S = 10.0
"""How often a server renews the lease on the jobs it runs and looks for dead servers' jobs."""
STALE_AFTER_S = 60.0
"""A job whose heartbeat is this old belongs to a server that died; another server requeues it."""
PARENT_CHECK_S = 1.0
"""How often a worker checks that the server that started it is still alive."""
"""Imported where the work runs, so neither this module nor the server process needs it."""


class Executor(Protocol):
    """What the API needs from a job runner."""

    def start(self) -> None:
        """Requeue jobs a previous run left IN_PROGRESS, then begin taking queued jobs."""

    def wake(self) -> None:
        """Say that a job was just queued."""

    def stop(self) -> None:
        """Stop promptly, leaving unfinished jobs IN_PROGRESS."""


def _resolve(work: Work | str) -> Work:
    """Turn a ``"module:function"`` path into the function."""
    if not isinstance(work, str):
        return work
    module, _, name = work.partition(":")
    return cast(Work, getattr(importlib.import_module(module), name))


def _invoke(work: Work | str, job_id: str, settings: Settings) -> JobOutcome:
    """Run one job; module-level so the pool can pickle it."""
    return _resolve(work)(job_id, settings)


def _init_worker(work: Work | str, log_level: int, server_pid: int) -> None:
    """Prepare a worker process: Ctrl-C is the server's to handle, logs go to stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level)
    threading.Thread(target=_exit_with_parent, args=(server_pid,), daemon=True).start()
    try:
        _resolve(work)  # import the pipeline before the first job arrives
    except Exception:
        # Failing here would break the pool and look like a crash; let each job report it instead.
        logger.exception("cannot import the job runner %s", work)


def server_id(home: Path) -> str:
    """This server's id, kept in ``home`` so that a restart on the same home is the same server."""
    path = home / "server-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        candidate = f"{uuid.uuid4()}\n"
        try:
            with path.open("x") as file:  # another process may be creating it right now
                file.write(candidate)
        except FileExistsError:
            pass
        return path.read_text().strip()


def _exit_with_parent(parent: int) -> None:
    """End this worker once the server is gone (e.g. ``kill -9``): nobody will read its results."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _failure_message(exc: BaseException) -> str:
    """Our own errors are written for users; anything else gets its type name too."""
    if isinstance(exc, MienError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _PoolExecutor(Generic[_Pool]):
    """The dispatcher; subclasses choose the pool that runs the work."""

    def __init__(
        self,
        store: JobStore,
        settings: Settings,
        work: Work | str = DEFAULT_WORK,
        *,
        poll_s: float = 1.0,
    ) -> None:
        """Set up without starting anything.

        Args:
            store: Where jobs are claimed and finished.
            settings: Passed to ``work``; ``workers`` bounds how many jobs run at once.
            work: The function that runs one job, or its ``"module:function"`` path.
            poll_s: How often to look for queued jobs when nobody calls ``wake``.
        """
        self._store = store
        self._settings = settings
        self._work = work
        self._poll_s = poll_s
        self._pool: _Pool | None = None
        self._inflight: dict[Future[JobOutcome], tuple[JobRecord, _Pool]] = {}
        self._done: queue.SimpleQueue[Future[JobOutcome]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._owner = settings.server_id or server_id(settings.home)
        self._last_beat = 0.0
        self._callbacks = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="mien-callback"
        )

    def _new_pool(self) -> _Pool:
        raise NotImplementedError

    def _kill_pool(self, pool: _Pool) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Requeue jobs a previous run left IN_PROGRESS, then begin taking queued jobs."""
        if self._thread is not None:
            raise RuntimeError("an executor starts only once")
        stale_ms = int(STALE_AFTER_S * 1000)
        self._report(self._store.requeue_interrupted(owner=self._owner, stale_after_ms=stale_ms))
        self._thread = threading.Thread(target=self._run, name="mien-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Say that a job was just queued."""
        self._wake.set()

    def stop(self) -> None:
        """Stop promptly, leaving unfinished jobs IN_PROGRESS."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._pool is not None:
            self._kill_pool(self._pool)
            self._pool = None
        self._callbacks.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._drain()
                self._beat()
                self._fill()
            except Exception:  # the database may be briefly unreachable; keep serving
                logger.exception("job dispatcher error")
            self._wake.wait(self._poll_s)
            self._wake.clear()

    def _beat(self) -> None:
        """Renew the lease on running jobs; requeue the jobs of servers that stopped beating."""
        if time.monotonic() - self._last_beat < HEARTBEAT_S:
            return
        self._last_beat = time.monotonic()
        running = [record.job_id for record, _ in self._inflight.values()]
        self._store.heartbeat(job_ids=running, owner=self._owner)
        stale_ms = int(STALE_AFTER_S * 1000)
        self._report(self._store.requeue_stale(owner=self._owner, stale_after_ms=stale_ms))

    def _report(self, requeued: list[JobRecord]) -> None:
        for record in requeued:
            if record.status is JobStatus.FAILED:
                self._notify(record.callback_url, failed_body(record.job_id, record.message or ""))
            else:
                logger.info("job %s was interrupted; queued again", record.job_id)
        if requeued:
            self._wake.set()

    def _fill(self) -> None:
        while len(self._inflight) < self._settings.workers and not self._stopping.is_set():
            record = self._store.claim_next(owner=self._owner)
            if record is None:
                return
            pool = self._current_pool()
            try:
                future = pool.submit(_invoke, self._work, record.job_id, self._settings)
            except BrokenProcessPool:  # a worker died since the last drain; start a fresh pool
                self._discard_pool(pool)
                pool = self._current_pool()
                future = pool.submit(_invoke, self._work, record.job_id, self._settings)
            self._inflight[future] = (record, pool)
            future.add_done_callback(self._on_done)

    def _on_done(self, future: Future[JobOutcome]) -> None:
        self._done.put(future)
        self._wake.set()

    def _drain(self) -> None:
        while True:
            try:
                future = self._done.get_nowait()
            except queue.Empty:
                return
            record, pool = self._inflight.pop(future)
            try:
                self._finish(record, pool, future)
            except Exception:
                logger.exception("could not record the end of job %s", record.job_id)

    def _finish(self, record: JobRecord, pool: _Pool, future: Future[JobOutcome]) -> None:
        job_id = record.job_id
        try:
            outcome = future.result()
        except BrokenProcessPool:
            self._discard_pool(pool)
            record = self._store.requeue(job_id=job_id)
            if record.status is JobStatus.FAILED:
                logger.error("job %s failed: %s", job_id, record.message)
                self._notify(record.callback_url, failed_body(job_id, record.message or ""))
            else:
                logger.warning("a worker died running job %s; requeued", job_id)
            return
        except Exception as exc:
            message = _failure_message(exc)
            # Our own errors are expected outcomes; a traceback helps only with the others.
            trace = None if isinstance(exc, MienError) else exc
            logger.warning("job %s failed: %s", job_id, message, exc_info=trace)
            self._store.fail(job_id=job_id, message=message)
            self._notify(record.callback_url, failed_body(job_id, message))
            return
        self._store.complete(
            job_id=job_id,
            predictions=outcome.predictions,
            num_predictions=outcome.num_predictions,
            num_errors=outcome.num_errors,
        )
        logger.info("job %s completed", job_id)
        self._notify(record.callback_url, completed_body(job_id, outcome.predictions))

    def _current_pool(self) -> _Pool:
        if self._pool is None:
            self._pool = self._new_pool()
        return self._pool

    def _discard_pool(self, pool: _Pool) -> None:
        if self._pool is pool:
            self._pool = None
            pool.shutdown(wait=False)

    def _notify(self, url: str | None, body: dict[str, Any]) -> None:
        if url and not self._stopping.is_set():
            self._callbacks.submit(
                post_callback,
                url,
                body,
                attempts=self._settings.callback_attempts,
                backoff_s=self._settings.callback_backoff_s,
                allow_private=self._settings.allow_private_urls,
                stop=self._stopping,
            )


class LocalExecutor(_PoolExecutor[concurrent.futures.ProcessPoolExecutor]):
    """Runs jobs in ``settings.workers`` spawned processes that each keep their models loaded."""

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self._settings.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._work, logging.getLogger().getEffectiveLevel(), os.getpid()),
        )

    def _kill_pool(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """End the workers mid-job: waiting for a long job would not be a prompt stop."""
        # No public way to kill workers before Python 3.14 (terminate_workers).
        processes = list((pool._processes or {}).values())
        for process in processes:
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)


class InlineExecutor(_PoolExecutor[concurrent.futures.ThreadPoolExecutor]):
    """Runs jobs on threads of this process; for tests and the CLI, where isolation is not needed.

    ``stop`` cannot interrupt a running thread: the job's result is just not recorded.
    """

    def _new_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        return concurrent.futures.ThreadPoolExecutor(
            max_workers=self._settings.workers, thread_name_prefix="mien-job"
        )

    def _kill_pool(self, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        pool.shutdown(wait=False, cancel_futures=True)
