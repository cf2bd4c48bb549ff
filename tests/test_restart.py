"""A job accepted before ``kill -9`` of the server completes after a restart on the same home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mien.jobs.executor import PARENT_CHECK_S
from tests.conftest import WEIGHTS_CACHE, free_port
from tests.helpers import wait_for_job


def _start(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"MIEN_HOME": str(home), "MIEN_CACHE_DIR": str(WEIGHTS_CACHE)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mien", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def _home_of(pid: str) -> Path | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b"MIEN_HOME="):
            return Path(entry.split(b"=", 1)[1].decode())
    return None


def test_accepted_jobs_survive_kill_9(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"
    first = _start(home, port)
    try:
        ids = [
            httpx.post(
                f"{url}/v0/batch/jobs",
                json={"text": [f"Thank you, friend number {i}!"], "models": {"language": {}}},
            ).json()["job_id"]
            for i in range(3)
        ]
        states = [httpx.get(f"{url}/v0/batch/jobs/{i}").json()["state"]["status"] for i in ids]
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert "COMPLETED" not in states[-1:], "the last job should still be pending at the kill"

    time.sleep(2 * PARENT_CHECK_S)
    orphans = subprocess.run(
        ["pgrep", "-P", "1", "-f", "multiprocessing.spawn"], capture_output=True, text=True
    ).stdout.split()
    assert not [pid for pid in orphans if _home_of(pid) == home], "workers outlived the server"

    second = _start(home, port)
    try:
        for job_id in ids:
            job = wait_for_job(url, job_id)
            assert job["state"]["status"] == "COMPLETED", job
    finally:
        second.terminate()
        second.wait(timeout=30)
