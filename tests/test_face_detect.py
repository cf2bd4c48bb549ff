"""BlazeFace full-range detection on real photos: recall, keypoints and source-pixel boxes."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from PIL import Image

from mien.media.image import load_image
from mien.models.face.detect import Detection, FaceDetector
from tests.conftest import make_settings
from tests.face_media import face_media

POSED = [
    "surprise.jpg",
    "happy.jpg",
    "anger.jpg",
    "disgust.jpg",
    "single_face.jpg",
    "astronaut.png",
]
FRONTAL = ["surprise.jpg", "happy.jpg", "anger.jpg", "single_face.jpg", "astronaut.png"]


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> FaceDetector:
    return FaceDetector(make_settings(tmp_path_factory.mktemp("home")))


@cache
def image(name: str) -> np.ndarray:
    return load_image(face_media(name))


def centre(detection: Detection) -> tuple[float, float]:
    x, y, w, h = detection.box
    return x + w / 2, y + h / 2


@pytest.mark.parametrize(("name", "faces"), [("multi_face.jpg", 5), ("group5.jpg", 5)])
def test_finds_every_face_in_group_photos(detector: FaceDetector, name: str, faces: int) -> None:
    found = detector.detect(image(name))
    assert len(found) == faces
    probs = [d.prob for d in found]
    assert probs == sorted(probs, reverse=True)
    assert all(0.6 < p <= 1 for p in probs)


def test_one_face_per_posed_portrait_in_one_batch(detector: FaceDetector) -> None:
    batches = detector.detect_batch([image(name) for name in POSED])
    assert [len(found) for found in batches] == [1] * len(POSED)
    single = detector.detect(image("astronaut.png"))[0]
    assert np.allclose(single.box, batches[-1][0].box, atol=1e-3)


def test_no_face_in_a_landscape_drawing(detector: FaceDetector) -> None:
    assert detector.detect(image("no_face.jpg")) == []
    assert detector.detect_batch([]) == []


def test_keypoints_lie_on_the_face(detector: FaceDetector) -> None:
    for name in [*POSED, "multi_face.jpg", "group1.jpg"]:
        for d in detector.detect(image(name)):
            x, y, w, h = d.box
            assert d.keypoints.dtype == np.float32
            inner = d.keypoints[:4]  # eyes, nose, mouth; ears may stick out on a turned head
            assert np.all((inner[:, 0] >= x) & (inner[:, 0] <= x + w)), name
            assert np.all((inner[:, 1] >= y) & (inner[:, 1] <= y + h)), name


def test_keypoint_order_on_upright_frontal_faces(detector: FaceDetector) -> None:
    for name in FRONTAL:
        (d,) = detector.detect(image(name))
        right_eye, left_eye, nose, mouth, right_ear, left_ear = d.keypoints
        assert right_eye[1] < mouth[1] and left_eye[1] < mouth[1], name
        assert right_eye[1] < nose[1] < mouth[1], name
        # the subject's right is the image's left
        assert right_ear[0] < right_eye[0] < left_eye[0] < left_ear[0], name


def test_boxes_are_in_source_pixels(detector: FaceDetector) -> None:
    astronaut = image("astronaut.png")
    (d,) = detector.detect(astronaut)
    cx, cy = centre(d)
    assert 170 < cx < 340 and cy < 200  # upper middle of the 512x512 picture
    assert 70 < d.box[2] < 160
    canvas = np.zeros((900, 1400, 3), np.uint8)  # same face, shifted into a wider image
    canvas[200:712, 300:812] = astronaut
    (moved,) = detector.detect(canvas)
    assert np.allclose(np.subtract(centre(moved), centre(d)), (300, 200), atol=0.1 * d.box[2])
    assert np.allclose(moved.keypoints - d.keypoints, (300, 200), atol=0.1 * d.box[2])


def test_tiles_find_small_faces(detector: FaceDetector) -> None:
    picture = Image.fromarray(image("multi_face.jpg")).resize((640, 427))
    mosaic = np.tile(np.asarray(picture), (3, 3, 1))  # 1920x1281, 45 faces of ~1/30 the width
    assert len(detector.detect(mosaic)) == 45


def test_zoomed_out_view_finds_close_ups(detector: FaceDetector) -> None:
    (d,) = detector.detect(image("happy.jpg"))
    x, y, w, h = (round(v) for v in d.box)
    close_up = np.ascontiguousarray(image("happy.jpg")[y : y + h, x : x + w])  # the face fills it
    (found,) = detector.detect(close_up)
    assert found.box[2] > 0.6 * w
