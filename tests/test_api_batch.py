"""The batch API over HTTP, against a real server on a loopback port."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from mien.taxonomy import EMOTIONS_48, EMOTIONS_53
from tests.conftest import Server, make_settings, running
from tests.helpers import top, wait_for_job, zip_bytes

THANKS = "Thank you so much for your help, I really appreciate it!"


def test_text_job_echoes_resolved_request_and_predicts(server: Server) -> None:
    body = {"text": [THANKS], "models": {"language": {"granularity": "sentence"}}}
    job_id = httpx.post(f"{server.url}/v0/batch/jobs", json=body).json()["job_id"]
    job = wait_for_job(server.url, job_id)

    assert job["type"] == "INFERENCE"
    assert job["state"]["status"] == "COMPLETED", job
    assert job["state"]["num_predictions"] == 1 and job["state"]["num_errors"] == 0
    assert job["request"]["models"]["language"] == {
        "granularity": "sentence",
        "sentiment": None,
        "toxicity": None,
        "identify_speakers": False,
    }
    assert job["request"]["transcription"] == {
        "language": None,
        "identify_speakers": False,
        "confidence_threshold": 0.5,
    }
    assert job["request"]["files"] == [] and job["request"]["text"] == [THANKS]

    predictions = httpx.get(f"{server.url}/v0/batch/jobs/{job_id}/predictions").json()
    assert predictions[0]["source"] == {"type": "text"}
    assert set(predictions[0]["results"]["predictions"][0]["models"]) == {"language"}
    block = predictions[0]["results"]["predictions"][0]["models"]["language"]
    group = block["grouped_predictions"][0]
    assert group["id"] == "unknown"
    first = group["predictions"][0]
    assert [e["name"] for e in first["emotions"]] == list(EMOTIONS_53)
    assert first["position"] == {"begin": 0, "end": len(THANKS)}
    assert "Gratitude" in top(first["emotions"])


def test_omitted_models_run_all_that_read_the_input(server: Server) -> None:
    body = {"text": ["I am so happy to be back in Paris"]}
    job_id = httpx.post(f"{server.url}/v0/batch/jobs", json=body).json()["job_id"]
    job = wait_for_job(server.url, job_id)
    assert set(job["request"]["models"]) == {
        "face",
        "burst",
        "prosody",
        "language",
        "ner",
        "facemesh",
    }
    assert job["request"]["models"]["face"]["min_face_size"] == 60
    result = httpx.get(f"{server.url}/v0/batch/jobs/{job_id}/predictions").json()[0]["results"]
    models = result["predictions"][0]["models"]
    assert set(models) == {"language", "ner"}  # the others do not read text, as in v0
    [paris] = models["ner"]["grouped_predictions"][0]["predictions"]
    assert paris["entity"] == "Paris" and paris["position"] == {"begin": 28, "end": 33}
    assert result["errors"] == [] and job["state"]["num_errors"] == 0


def test_multipart_files_and_archive_fail_only_the_bad_files(server: Server) -> None:
    archive = zip_bytes(
        {
            "notes/good.txt": b"I am furious, this is the worst service ever.",
            "notes/latin1.txt": "caf\xe9 cr\xe8me".encode("latin-1"),
            "notes/empty.txt": b"",
        }
    )
    files = [
        ("file", ("hello.txt", b"Thank you, that was lovely.", "text/plain")),
        ("file", ("bundle.zip", archive, "application/zip")),
        ("file", ("blob.bin", bytes(range(256)) * 4, "application/octet-stream")),
    ]
    data = {"json": json.dumps({"models": {"language": {}}})}
    response = httpx.post(f"{server.url}/v0/batch/jobs", files=files, data=data)
    assert response.status_code == 200, response.text
    job = wait_for_job(server.url, response.json()["job_id"])
    assert [f["filename"] for f in job["request"]["files"]] == [
        "hello.txt",
        "bundle.zip",
        "blob.bin",
    ]
    assert all(len(f["md5sum"]) == 32 for f in job["request"]["files"])

    results = httpx.get(f"{server.url}/v0/batch/jobs/{job['job_id']}/predictions").json()
    hello, bundle, blob = (r["results"] for r in results)
    assert [p["file"] for p in hello["predictions"]] == ["hello.txt"]
    assert hello["predictions"][0]["file_type"] == "text"
    assert [p["file"] for p in bundle["predictions"]] == ["notes/good.txt"]
    errors = {e["file"]: e["message"] for e in bundle["errors"]}
    assert set(errors) == {"notes/latin1.txt", "notes/empty.txt"}
    assert "UTF-8" in errors["notes/latin1.txt"] and "empty" in errors["notes/empty.txt"]
    assert blob["predictions"] == [] and len(blob["errors"]) == 1
    assert job["state"]["num_predictions"] == 2 and job["state"]["num_errors"] == 3


def test_json_part_as_file_like_the_sdk_sends_it(server: Server) -> None:
    files = [
        ("file", ("a.txt", b"What a wonderful surprise!", "text/plain")),
        (
            "json",
            (
                "blob",
                json.dumps({"models": {"language": {"granularity": "passage"}}}).encode(),
                "application/json",
            ),
        ),
    ]
    response = httpx.post(f"{server.url}/v0/batch/jobs", files=files)
    # "passage" is a streaming-only granularity: the batch API refuses it clearly
    assert response.status_code == 400 and "granularity" in response.json()["message"]
    files[1] = (
        "json",
        (
            "blob",
            json.dumps({"models": {"language": {"sentiment": {}}}}).encode(),
            "application/json",
        ),
    )
    job = wait_for_job(
        server.url, httpx.post(f"{server.url}/v0/batch/jobs", files=files).json()["job_id"]
    )
    assert job["request"]["models"]["language"]["sentiment"] == {}
    prediction = httpx.get(f"{server.url}/v0/batch/jobs/{job['job_id']}/predictions").json()[0]
    word = prediction["results"]["predictions"][0]["models"]["language"]["grouped_predictions"][0][
        "predictions"
    ][0]
    assert [s["name"] for s in word["sentiment"]] == [str(i) for i in range(1, 10)]


def test_bad_requests_get_400_and_unknown_jobs_404(server: Server) -> None:
    assert httpx.post(f"{server.url}/v0/batch/jobs", json={}).status_code == 400
    no_models = httpx.post(f"{server.url}/v0/batch/jobs", json={"text": ["x"], "models": {}})
    assert no_models.status_code == 400 and "models" in no_models.json()["message"]
    assert (
        httpx.post(
            f"{server.url}/v0/batch/jobs",
            content=b"{nope",
            headers={"content-type": "application/json"},
        ).status_code
        == 400
    )
    bad_model = httpx.post(
        f"{server.url}/v0/batch/jobs",
        json={"text": ["x"], "models": {"face": {"prob_threshold": 2}}},
    )
    assert bad_model.status_code == 400 and "prob_threshold" in bad_model.json()["message"]
    missing = httpx.get(f"{server.url}/v0/batch/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "message" in missing.json()


def test_list_filters_sorts_and_limits(server: Server) -> None:
    ids = [
        httpx.post(
            f"{server.url}/v0/batch/jobs", json={"text": [f"note {i}"], "models": {"language": {}}}
        ).json()["job_id"]
        for i in range(3)
    ]
    for job_id in ids:
        wait_for_job(server.url, job_id)
    listed = httpx.get(f"{server.url}/v0/batch/jobs").json()
    assert [j["job_id"] for j in listed] == ids[::-1]
    oldest_first = httpx.get(
        f"{server.url}/v0/batch/jobs", params={"direction": "asc", "limit": 2}
    ).json()
    assert [j["job_id"] for j in oldest_first] == ids[:2]
    created = [j["state"]["created_timestamp_ms"] for j in listed]
    before = httpx.get(
        f"{server.url}/v0/batch/jobs", params={"when": "created_before", "timestamp_ms": created[0]}
    ).json()
    assert ids[2] not in [j["job_id"] for j in before]
    failed = httpx.get(f"{server.url}/v0/batch/jobs", params={"status": ["FAILED"]}).json()
    assert failed == []
    both = httpx.get(
        f"{server.url}/v0/batch/jobs", params=[("status", "FAILED"), ("status", "COMPLETED")]
    ).json()
    assert len(both) == 3


def test_artifacts_zip_has_predictions_and_csv(server: Server) -> None:
    body = {
        "text": ["I can't believe you did that, I'm so angry."],
        "models": {"language": {"granularity": "sentence", "toxicity": {}}},
    }
    job_id = httpx.post(f"{server.url}/v0/batch/jobs", json=body).json()["job_id"]
    wait_for_job(server.url, job_id)
    response = httpx.get(f"{server.url}/v0/batch/jobs/{job_id}/artifacts")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "predictions.json" in names
    csv_name = next(n for n in names if n.endswith("language.csv"))
    header = archive.read(csv_name).decode().splitlines()[0].split(",")
    assert header[:8] == [
        "Id",
        "Text",
        "BeginPosition",
        "EndPosition",
        "BeginTime",
        "EndTime",
        "Confidence",
        "SpeakerConfidence",
    ]
    assert header[8:61] == list(EMOTIONS_53) and header[-6:] == [
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
    ]


def test_url_to_loopback_is_refused_and_other_sources_still_run(server: Server) -> None:
    body = {
        "urls": [f"{server.url}/healthz"],
        "text": ["Thanks a lot!"],
        "models": {"language": {}},
    }
    job = wait_for_job(
        server.url, httpx.post(f"{server.url}/v0/batch/jobs", json=body).json()["job_id"]
    )
    url_result, text_result = httpx.get(
        f"{server.url}/v0/batch/jobs/{job['job_id']}/predictions"
    ).json()
    assert url_result["source"]["type"] == "url" and "results" not in url_result
    assert "127.0.0.1" in url_result["error"] or "loopback" in url_result["error"]
    assert len(text_result["results"]["predictions"]) == 1
    assert job["state"]["num_errors"] == 1


def test_api_keys(keyed_server: Server) -> None:
    url = keyed_server.url
    denied = httpx.get(f"{url}/v0/batch/jobs")
    assert denied.status_code == 401 and "API key" in denied.json()["message"]
    assert httpx.get(f"{url}/v0/batch/jobs", headers={"X-Hume-Api-Key": "wrong"}).status_code == 401
    assert (
        httpx.get(f"{url}/v0/batch/jobs", headers={"X-Hume-Api-Key": "s3cret"}).status_code == 200
    )
    assert (
        httpx.get(f"{url}/v0/batch/jobs", headers={"Authorization": "Bearer s3cret"}).status_code
        == 200
    )
    assert httpx.get(f"{url}/healthz").status_code == 200


def test_oversize_upload_fails_that_file_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", max_file_bytes=1000)
    with running(settings) as url:
        files = [
            ("file", ("big.txt", b"Thanks! " * 500, "text/plain")),
            ("file", ("small.txt", b"Thank you!", "text/plain")),
        ]
        data = {"json": json.dumps({"models": {"language": {}}})}
        job_id = httpx.post(f"{url}/v0/batch/jobs", files=files, data=data).json()["job_id"]
        job = wait_for_job(url, job_id)
        big, small = (
            r["results"] for r in httpx.get(f"{url}/v0/batch/jobs/{job_id}/predictions").json()
        )
        assert big["predictions"] == [] and "limit" in big["errors"][0]["message"]
        assert small["predictions"][0]["file"] == "small.txt"
        assert (job["state"]["num_predictions"], job["state"]["num_errors"]) == (1, 1)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_callback_gets_the_predictions(tmp_path: Path) -> None:
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{hook.server_address[1]}/done"
    settings = make_settings(tmp_path / "home", allow_private_urls=True)
    try:
        with running(settings) as url:
            body = {"text": ["Thanks!"], "models": {"language": {}}, "callback_url": callback}
            job_id = httpx.post(f"{url}/v0/batch/jobs", json=body).json()["job_id"]
            wait_for_job(url, job_id)
            deadline = time.monotonic() + 30
            while not _Hook.received and time.monotonic() < deadline:
                time.sleep(0.1)
            (sent,) = _Hook.received
            assert sent["job_id"] == job_id and sent["status"] == "COMPLETED"
            predictions = httpx.get(f"{url}/v0/batch/jobs/{job_id}/predictions").json()
            assert sent["predictions"] == predictions
    finally:
        hook.shutdown()


def test_callback_to_a_private_address_is_refused_up_front(server: Server) -> None:
    body = {"text": ["x"], "callback_url": "http://10.0.0.1/hook"}
    response = httpx.post(f"{server.url}/v0/batch/jobs", json=body)
    assert response.status_code == 400 and "callback_url" in response.json()["message"]


def test_models_endpoint_says_where_each_dimension_comes_from(server: Server) -> None:
    models = {m["name"]: m for m in httpx.get(f"{server.url}/models").json()["models"]}
    assert all(m["available"] for m in models.values())
    prosody = {d["name"]: d["signal"] for d in models["prosody"]["dimensions"]}
    assert prosody["Sadness"] == "prototype" and prosody["Envy"] == "weak"
    assert models["burst"]["card"] == "docs/models/burst.md"
    face = models["face"]
    assert [d["name"] for d in face["dimensions"]] == list(EMOTIONS_48)
    signals = {d["name"]: d["signal"] for d in face["dimensions"]}
    assert signals["Joy"] == "prototype" and signals["Nostalgia"] == "weak"
    assert {a["name"] for a in face["artifacts"]} >= {"face-landmarker", "face-detector-full-range"}
    assert models["facemesh"]["card"] == "docs/models/face.md"
    language = models["language"]
    assert [d["name"] for d in language["dimensions"]] == list(EMOTIONS_53)
    sources = {d["name"]: d["source"] for d in language["dimensions"]}
    assert sources["Gratitude"] == "label" and sources["Sarcasm"] == "prototype"
    assert {a["name"] for a in language["artifacts"]} >= {"e5-small-q4", "toxicity-bilstm"}


def _tar_gz(members: dict[str, bytes], links: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            archive.addfile(info)
    return buffer.getvalue()


def test_hostile_archives_fail_their_members_and_write_nothing_outside_home(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "home", max_compression_ratio=50)
    with running(settings) as url:
        png = io.BytesIO()
        Image.new("RGB", (32, 32), "red").save(png, format="PNG")
        hostile = _tar_gz(
            {"../escape.txt": b"Thank you!", "ok/fine.txt": b"I love this."},
            {"ok/link.txt": "/etc/passwd"},
        )
        bomb = zip_bytes({"zeros.txt": b"0" * 5_000_000})
        files = [
            ("file", ("hostile.tar.gz", hostile, "application/gzip")),
            ("file", ("bomb.zip", bomb, "application/zip")),
            ("file", ("cut.png", png.getvalue()[:60], "image/png")),
            ("file", ("empty.zip", zip_bytes({}), "application/zip")),
        ]
        data = {"json": json.dumps({"models": {"language": {}}})}
        job_id = httpx.post(f"{url}/v0/batch/jobs", files=files, data=data).json()["job_id"]
        job = wait_for_job(url, job_id)
        results = [
            r["results"] for r in httpx.get(f"{url}/v0/batch/jobs/{job_id}/predictions").json()
        ]
    hostile_result, bomb_result, cut_result, empty_result = results
    assert [p["file"] for p in hostile_result["predictions"]] == ["ok/fine.txt"]
    messages = {e["file"]: e["message"] for e in hostile_result["errors"]}
    assert set(messages) == {"../escape.txt", "ok/link.txt"}
    assert "bomb" in bomb_result["errors"][0]["message"]
    assert "PNG" in cut_result["errors"][0]["message"]
    assert "empty" in empty_result["errors"][0]["message"]
    assert job["state"]["num_errors"] == 5 and job["state"]["num_predictions"] == 1
    assert not list(tmp_path.rglob("escape.txt"))
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert all((tmp_path / "home") in p.parents for p in written)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("MIEN_TEST_POSTGRES_URL"), reason="no PostgreSQL")
def test_a_job_end_to_end_on_postgresql(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", database_url=os.environ["MIEN_TEST_POSTGRES_URL"])
    with running(settings) as url:
        body = {"text": ["Thank you!"], "models": {"language": {}}}
        job_id = httpx.post(f"{url}/v0/batch/jobs", json=body).json()["job_id"]
        assert wait_for_job(url, job_id)["state"]["status"] == "COMPLETED"
        assert job_id in [j["job_id"] for j in httpx.get(f"{url}/v0/batch/jobs").json()]
        assert not (tmp_path / "home" / "mien.db").exists()


def test_malformed_multipart_is_a_400_and_leaves_nothing(server: Server) -> None:
    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhal'
    response = httpx.post(f"{server.url}/v0/batch/jobs", content=body, headers=headers)
    assert response.status_code == 400, response.text
    nameless = b"--xyz\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xyz--\r\n"
    response = httpx.post(f"{server.url}/v0/batch/jobs", content=nameless, headers=headers)
    assert response.status_code == 400 and "name" in response.json()["message"]
    jobs_dir = server.settings.jobs_dir
    assert not jobs_dir.exists() or not any(jobs_dir.iterdir())
    assert httpx.get(f"{server.url}/v0/batch/jobs").json() == []


def test_cors_is_off_by_default_and_configurable(tmp_path: Path, server: Server) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    closed = httpx.options(f"{server.url}/v0/batch/jobs", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    settings = make_settings(tmp_path / "cors", cors_origins=["https://app.example"])
    with running(settings) as url:
        opened = httpx.options(f"{url}/v0/batch/jobs", headers=preflight)
        assert opened.headers["access-control-allow-origin"] == "https://app.example"
