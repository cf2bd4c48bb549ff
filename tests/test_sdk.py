"""The official Python SDK (hume==0.13.13), unchanged but for base_url, drives our server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hume import AsyncHumeClient, HumeClient
from hume.expression_measurement.batch.types import (
    Face,
    InferenceBaseRequest,
    InferenceJob,
    InferenceSourcePredictResult,
    Language,
    Models,
)
from hume.expression_measurement.stream.stream.types import Config, StreamFace, StreamLanguage

from mien.taxonomy import EMOTIONS_48, EMOTIONS_53
from tests.conftest import Server
from tests.face_media import face_media
from tests.helpers import zip_bytes


def _wait(client: HumeClient, job_id: str) -> InferenceJob:
    deadline = time.monotonic() + 300
    while True:
        job = client.expression_measurement.batch.get_job_details(id=job_id)
        if job.state.status in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_batch_text_job_with_the_sdk(server: Server, tmp_path: Path) -> None:
    client = HumeClient(api_key="unused", base_url=server.url)
    batch = client.expression_measurement.batch
    job_id = batch.start_inference_job(
        text=["Thank you so much, this means a lot to me."],
        models=Models(language=Language(granularity="sentence", sentiment={})),
    )
    job = _wait(client, job_id)
    assert job.state.status == "COMPLETED"
    assert job.request.models is not None and job.request.models.language is not None
    assert job.request.models.language.granularity == "sentence"

    predictions = batch.get_job_predictions(id=job_id)
    assert isinstance(predictions[0], InferenceSourcePredictResult)
    assert predictions[0].results is not None
    language = predictions[0].results.predictions[0].models.language
    assert language is not None
    sentence = language.grouped_predictions[0].predictions[0]
    assert [e.name for e in sentence.emotions] == list(EMOTIONS_53)
    assert sentence.sentiment is not None and len(sentence.sentiment) == 9
    assert max(sentence.emotions, key=lambda e: e.score).name == "Gratitude"

    assert job_id in [j.job_id for j in batch.list_jobs()]
    artifacts = tmp_path / "artifacts.zip"
    batch.get_and_write_job_artifacts(id=job_id, file_name=str(artifacts))
    assert artifacts.stat().st_size > 0


def test_batch_local_files_with_the_sdk(server: Server, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("I'm so disappointed and sad about how this turned out.")
    archive = tmp_path / "more.zip"
    archive.write_bytes(
        zip_bytes(
            {
                "a/first.txt": b"Wow, what a great idea!",
                "a/second.txt": b"This is outrageous and I am angry.",
            }
        )
    )
    client = HumeClient(api_key="unused", base_url=server.url)
    batch = client.expression_measurement.batch
    with note.open("rb") as first, archive.open("rb") as second:
        job_id = batch.start_inference_job_from_local_file(
            file=[first, second],
            json=InferenceBaseRequest(models=Models(language=Language(granularity="utterance"))),
        )
    job = _wait(client, job_id)
    assert job.state.status == "COMPLETED"
    assert [f.filename for f in job.request.files] == ["note.txt", "more.zip"]
    results = batch.get_job_predictions(id=job_id)
    files = [p.file for r in results if r.results for p in r.results.predictions]
    assert files == ["note.txt", "a/first.txt", "a/second.txt"]


def test_stream_text_reset_and_job_details_with_the_sdk(server: Server) -> None:
    async def run() -> None:
        client = AsyncHumeClient(api_key="unused", base_url=server.url)
        async with client.expression_measurement.stream.connect() as socket:
            reply = await socket.send_text(
                "I love you. I hate waiting.",
                config=Config(language=StreamLanguage(granularity="sentence")),
            )
            assert reply.language is not None and reply.language.predictions is not None
            first, second = reply.language.predictions
            assert first.text == "I love you." and second.position.begin == 12
            assert max(first.emotions, key=lambda e: e.score).name == "Love"
            reset = await socket.reset()
            assert reset is not None
            details = await socket.get_job_details()
            assert details.job_details is not None and len(details.job_details.job_id) == 36

    asyncio.run(run())


def test_batch_face_job_with_the_sdk(server: Server) -> None:
    client = HumeClient(api_key="unused", base_url=server.url)
    batch = client.expression_measurement.batch
    with face_media("happy.jpg").open("rb") as image:
        job_id = batch.start_inference_job_from_local_file(
            file=[image],
            json=InferenceBaseRequest(
                models=Models(face=Face(facs={}, descriptions={}, identify_faces=True))
            ),
        )
    assert _wait(client, job_id).state.status == "COMPLETED"
    [result] = batch.get_job_predictions(id=job_id)
    assert result.results is not None
    face = result.results.predictions[0].models.face
    assert face is not None and face.grouped_predictions[0].id == "face_0"
    prediction = face.grouped_predictions[0].predictions[0]
    assert prediction.prob > 0.99 and prediction.box.w > 100
    assert [e.name for e in prediction.emotions] == list(EMOTIONS_48)
    assert max(prediction.emotions, key=lambda e: e.score).name in {"Joy", "Amusement"}
    assert prediction.facs is not None and prediction.descriptions is not None


def test_stream_face_and_facemesh_with_the_sdk(server: Server) -> None:
    from mien.media.image import load_image
    from mien.models.face.analyzer import FaceAnalyzer

    landmarks = FaceAnalyzer(server.settings).read(load_image(face_media("happy.jpg")))[0]
    mesh = landmarks.mesh.landmarks.tolist()

    async def run() -> None:
        client = AsyncHumeClient(api_key="unused", base_url=server.url)
        async with client.expression_measurement.stream.connect() as socket:
            reply = await socket.send_file(
                face_media("happy.jpg"), config=Config(face=StreamFace(identify_faces=True))
            )
            assert reply.face is not None and reply.face.predictions is not None
            [face] = reply.face.predictions
            assert face.face_id == "face_0" and face.bbox is not None and face.prob is not None
            assert face.emotions is not None
            assert max(face.emotions, key=lambda e: e.score or 0).name in {"Joy", "Amusement"}
            meshed = await socket.send_facemesh([mesh], config=Config(facemesh={}))
            assert meshed.facemesh is not None and meshed.facemesh.predictions is not None
            [scored] = meshed.facemesh.predictions
            assert scored.emotions is not None and len(scored.emotions) == 48

    asyncio.run(run())


def test_voice_job_and_stream_with_the_sdk(server: Server, tmp_path: Path) -> None:
    from hume.expression_measurement.batch.types import Prosody, Transcription

    from tests.voice_media import speak, voice_media

    speech = speak("I have been waiting here for an hour.", tmp_path / "speech.wav")
    client = HumeClient(api_key="unused", base_url=server.url)
    batch = client.expression_measurement.batch
    with speech.open("rb") as first, voice_media("laugh-pompous.wav").open("rb") as second:
        job_id = batch.start_inference_job_from_local_file(
            file=[first, second],
            json=InferenceBaseRequest(
                models=Models(prosody=Prosody(granularity="word"), burst={}),
                transcription=Transcription(language="en"),
            ),
        )
    assert _wait(client, job_id).state.status == "COMPLETED"
    results = batch.get_job_predictions(id=job_id)
    spoken, laughing = (p for r in results if r.results for p in r.results.predictions)
    prosody = spoken.models.prosody
    assert prosody is not None and prosody.metadata is not None
    assert prosody.metadata.detected_language == "en"
    words = prosody.grouped_predictions[0].predictions
    assert words[0].text is not None and words[0].time.begin < words[0].time.end
    burst = laughing.models.burst
    assert burst is not None and burst.grouped_predictions
    first_burst = burst.grouped_predictions[0].predictions[0]
    assert max(first_burst.descriptions, key=lambda d: d.score).name in {"Laugh", "Giggle"}

    async def run() -> None:
        client = AsyncHumeClient(api_key="unused", base_url=server.url)
        async with client.expression_measurement.stream.connect() as socket:
            reply = await socket.send_file(speech, config=Config(prosody={}, burst={}))
            assert reply.prosody is not None and reply.prosody.predictions
            assert reply.burst is not None

    asyncio.run(run())
