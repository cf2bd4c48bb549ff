"""The official TypeScript SDK (npm ``hume``, pinned in ts_sdk/package.json) drives our server.

The SDK is installed with npm into a cache outside the repo and reused; ``ts_sdk/run.mjs`` uses it
as a user would, pointed at the server only through its environment URLs, and prints what it saw.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mien.taxonomy import EMOTIONS_48, EMOTIONS_53
from tests.conftest import make_settings, running
from tests.face_media import face_media
from tests.helpers import zip_bytes
from tests.voice_media import voice_media

HERE = Path(__file__).parent / "ts_sdk"
SDK_VERSION: str = json.loads((HERE / "package.json").read_text())["dependencies"]["hume"]
CACHE_ROOT = Path(os.environ.get("MIEN_TEST_CACHE", Path.home() / ".cache" / "mien-tests"))
API_KEY = "s3cret"
NOTE = "I'm so disappointed and sad about how this turned out."
NETWORK_ERRORS = (
    "ENOTFOUND",
    "EAI_AGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "ENETUNREACH",
)


def _copy_if_changed(source: Path, target: Path) -> None:
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)


@pytest.fixture(scope="module")
def sdk_dir() -> Path:
    """The pinned SDK, installed once per version; run.mjs sits beside its node_modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the TypeScript SDK")
    major = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    if int(major.stdout.strip().lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"the hume SDK needs node >= 18, found {major.stdout.strip()}")
    target = CACHE_ROOT / f"ts-sdk-{SDK_VERSION}"
    target.mkdir(parents=True, exist_ok=True)
    _copy_if_changed(HERE / "package.json", target / "package.json")
    marker = target / "installed"  # written only after npm succeeds: half installs are redone
    if not marker.exists() or marker.read_text() != SDK_VERSION:
        install = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if install.returncode != 0:
            log = install.stdout + install.stderr
            if any(code in log for code in NETWORK_ERRORS):
                pytest.skip(f"npm could not reach its registry to install hume@{SDK_VERSION}")
            pytest.fail(f"npm install hume@{SDK_VERSION} failed:\n{log[-4000:]}")
        marker.write_text(SDK_VERSION)
    _copy_if_changed(HERE / "run.mjs", target / "run.mjs")
    return target


@pytest.fixture(scope="module")
def observed(sdk_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of run.mjs against a keyed server; every test reads its own part."""
    work = tmp_path_factory.mktemp("ts-sdk")
    (work / "note.txt").write_text(NOTE)
    (work / "more.zip").write_bytes(
        zip_bytes(
            {
                "a/first.txt": b"Wow, what a great idea!",
                "a/second.txt": b"This is outrageous and I am angry.",
            }
        )
    )
    (work / "face.jpg").write_bytes(face_media("happy.jpg").read_bytes())
    (work / "speech.wav").write_bytes(voice_media("jfk.wav").read_bytes())
    with running(make_settings(work / "home", api_keys=[API_KEY])) as url:
        run = subprocess.run(
            ["node", str(sdk_dir / "run.mjs"), url, API_KEY, str(work)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stderr[-4000:]
    result: dict[str, Any] = json.loads(run.stdout)
    result["workdir"] = str(work)
    return result


def _part(observed: dict[str, Any], name: str) -> Any:
    assert name not in observed["errors"], observed["errors"][name]
    return observed[name]


def test_batch_text_job_with_the_ts_sdk(observed: dict[str, Any]) -> None:
    job = _part(observed, "textJob")
    assert job["status"] == "COMPLETED" and job["granularity"] == "sentence"
    assert job["text"] == "Thank you so much, this means a lot to me."
    assert job["names"] == list(EMOTIONS_53)
    assert job["top"] == "Gratitude" and job["sentimentLength"] == 9
    assert job["jobId"] in job["listedIds"]
    artifacts = Path(observed["workdir"]) / "artifacts.zip"
    assert artifacts.stat().st_size == job["artifactsBytes"] > 0
    with zipfile.ZipFile(artifacts) as archive:
        assert archive.testzip() is None and archive.namelist()


def test_batch_local_files_with_the_ts_sdk(observed: dict[str, Any]) -> None:
    job = _part(observed, "localFileJob")
    assert job["status"] == "COMPLETED"
    assert job["requestFiles"] == ["note.txt", "more.zip"]
    assert job["predictedFiles"] == ["note.txt", "a/first.txt", "a/second.txt"]


def test_batch_face_job_with_the_ts_sdk(observed: dict[str, Any]) -> None:
    job = _part(observed, "faceJob")
    assert job["status"] == "COMPLETED" and job["identifyFaces"] is True
    assert job["id"] == "face_0" and job["prob"] > 0.99
    assert set(job["box"]) == {"x", "y", "w", "h"}
    assert job["names"] == list(EMOTIONS_48) and job["top"] in {"Joy", "Amusement"}
    assert "AU12 Lip Corner Puller" in job["facs"]


def test_batch_voice_job_with_the_ts_sdk(observed: dict[str, Any]) -> None:
    job = _part(observed, "voiceJob")
    assert job["language"] == "en" and job["text"].startswith("And so my fellow Americans")
    assert 0 <= job["time"]["begin"] < job["time"]["end"] <= 11.1
    assert job["names"] == list(EMOTIONS_48) and job["bursts"] == 0


def test_refusals_reach_the_ts_sdk_as_hume_errors(observed: dict[str, Any]) -> None:
    refusals = _part(observed, "refusals")
    assert refusals["unknownJob"]["name"] == "HumeError"
    assert refusals["unknownJob"]["statusCode"] == 404
    assert refusals["wrongKey"]["statusCode"] == 401


def _language(predictions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    assert all(p["names"] == list(EMOTIONS_53) for p in predictions)
    return [(p["text"], p["top"]) for p in predictions]


def test_stream_with_the_generated_ts_socket(observed: dict[str, Any]) -> None:
    stream = _part(observed, "generatedStream")
    assert stream["text"]["payloadId"] == "text-1"
    texts = stream["text"]["predictions"]
    assert [p["text"] for p in texts] == ["I love you.", "I hate waiting."]
    assert texts[1]["position"] == {"begin": 12, "end": 27} and texts[0]["top"] == "Love"
    assert stream["file"]["payloadId"] == "file-1"
    assert _language(stream["file"]["predictions"]) == [("Thank you so much!", "Gratitude")]
    assert stream["reset"] == {}
    assert len(stream["jobId"]) == 36


def test_stream_with_the_ts_stream_socket_wrapper(observed: dict[str, Any]) -> None:
    stream = _part(observed, "wrapperStream")
    assert _language(stream["text"])[0] == ("I love you.", "Love")
    thanks = "Thank you so much, this means a lot to me."
    assert _language(stream["blob"]) == [(thanks, "Gratitude")]
    assert [p["text"] for p in stream["readStream"]] == [NOTE]
    assert stream["reset"] is None and stream["jobDetails"] is None  # 0.15.x drops these answers
    assert stream["refused"].startswith("HumeError: CODE E0101:")


def test_ts_stream_wrapper_cannot_be_pointed_elsewhere(observed: dict[str, Any]) -> None:
    """0.15.x's ``client.expressionMeasurement.stream.connect`` ignores the environment."""
    assert observed["wrapperStreamUrl"] == "wss://api.hume.ai/v0/stream/models"
